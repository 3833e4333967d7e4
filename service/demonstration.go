package service

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// Demonstration-road (示范路) statuses.
const (
	DemoNone      = "none"
	DemoCandidate = "candidate"
	DemoBuilding  = "building"
	DemoAccepted  = "accepted"
	DemoRevoked   = "revoked"
)

// DemoStatusName is a demonstration status in words.
func DemoStatusName(status string) string {
	if n, ok := demoStatusNames[status]; ok {
		return n
	}
	return status
}

// DemoStatusNames returns every demonstration status with its name in words.
func DemoStatusNames() map[string]string { return maps.Clone(demoStatusNames) }

var demoStatusNames = map[string]string{DemoNone: "未列入", DemoCandidate: "候选", DemoBuilding: "创建中", DemoAccepted: "已验收", DemoRevoked: "已撤销"}

// demoMoves lists the allowed status changes: candidate → building → accepted,
// revocation from any designated state, and a revoked road may start again.
var demoMoves = map[string][]string{
	DemoNone:      {DemoCandidate},
	DemoCandidate: {DemoBuilding, DemoRevoked, DemoNone},
	DemoBuilding:  {DemoAccepted, DemoRevoked, DemoCandidate},
	DemoAccepted:  {DemoRevoked},
	DemoRevoked:   {DemoCandidate},
}

func designated(status string) bool {
	return status == DemoCandidate || status == DemoBuilding || status == DemoAccepted
}

// SetDemonstration moves a road through the demonstration statuses (county
// admin of its county, or the city admin), recording who and when.
// Errors: CodeInvalid (unknown status), CodeConflict (move not allowed).
func (s *Service) SetDemonstration(ctx context.Context, a Actor, roadID int64, status, note string) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return RoadView{}, errForbidden
	}
	f := fieldErrors{}
	if _, ok := demoMoves[status]; !ok {
		f.add("status", "应为 none、candidate、building、accepted 或 revoked")
	}
	// A revocation is published in the programme's record: it says why.
	if note = f.lines("note", note, false, 500); status == DemoRevoked && note == "" {
		f.add("note", "撤销示范路须写明原因")
	}
	if err := f.err(); err != nil {
		return RoadView{}, err
	}
	r, err := s.roadInCounty(ctx, a, roadID)
	if err != nil {
		return RoadView{}, err
	}
	allowed := false
	for _, to := range demoMoves[r.DemoStatus] {
		allowed = allowed || to == status
	}
	if !allowed {
		return RoadView{}, Errorf(CodeConflict, "示范路状态不能从“%s”变为“%s”", DemoStatusName(r.DemoStatus), DemoStatusName(status))
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.SetDemoStatus(ctx, models.RoadDemoEvent{RoadID: r.ID, FromStatus: r.DemoStatus, ToStatus: status,
			ChangedBy: a.UserID, Note: note, ChangedAt: s.now().Truncate(time.Millisecond)}); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditDemonstration, objectType: AuditObjectRoad, objectID: r.ID,
			countyID: &r.CountyID, summary: r.Name, before: map[string]any{"demo_status": r.DemoStatus},
			after: nonEmpty(map[string]any{"demo_status": status, "note": note})})
	})
	if errors.Is(err, models.ErrNotFound) {
		return RoadView{}, Errorf(CodeConflict, "道路状态已被他人修改，请刷新后重试")
	}
	if err != nil {
		return RoadView{}, err
	}
	return s.Road(ctx, a, roadID)
}

// RoadMetrics are the demonstration criteria of a road in one cycle.
type RoadMetrics struct {
	ActiveMerchants int     `json:"active_merchants"`
	Inspected       int     `json:"inspected"`
	InspectedShare  float64 `json:"inspected_share"`
	AverageScore    float64 `json:"average_score"`
	RatedHigh       int     `json:"rated_high"` // merchants rated at least the policy's star
	RatedHighShare  float64 `json:"rated_high_share"`
	SeriousItems    int     `json:"serious_items"`
	OverdueNotices  int     `json:"overdue_notices"`
}

// Criteria a demonstration road can fail, in display order.
const (
	FailMerchants = "min_merchants"
	FailInspected = "all_inspected"
	FailAverage   = "average_score"
	FailRated     = "rated_share"
	FailSerious   = "no_serious_items"
	FailOverdue   = "no_overdue_notices"
)

// Qualify applies the policy's demonstration thresholds (达标) to metrics and
// returns the failing criteria; exact integer comparisons, so 89.995 is not 90.
func Qualify(d policy.Demonstration, m RoadMetrics, scoreSum int) []string {
	n := m.ActiveMerchants
	var fail []string
	if n < d.MinMerchants {
		fail = append(fail, FailMerchants)
	}
	if n == 0 || m.Inspected < n {
		fail = append(fail, FailInspected)
	}
	if n == 0 || int64(scoreSum)*100 < roundInt(d.MinAverageScore*100)*int64(n) {
		fail = append(fail, FailAverage)
	}
	if n == 0 || int64(m.RatedHigh)*10000 < roundInt(d.MinRatedShare*10000)*int64(n) {
		fail = append(fail, FailRated)
	}
	if m.SeriousItems > 0 {
		fail = append(fail, FailSerious)
	}
	if m.OverdueNotices > 0 {
		fail = append(fail, FailOverdue)
	}
	return fail
}

func roundInt(f float64) int64 {
	if f < 0 {
		return -roundInt(-f)
	}
	return int64(f + 0.5)
}

// cents is a 2-decimal average as an integer number of hundredths, rounded half up.
func cents(sum, n int) int64 {
	if n == 0 {
		return 0
	}
	return (int64(sum)*200 + int64(n)) / (2 * int64(n))
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(roundInt(float64(k)*10000/float64(n))) / 10000
}

// CountyCycle is a county's results of one cycle: frozen when the cycle is
// closed, else computed live and provisional.
type CountyCycle struct {
	County      models.County
	Cycle       string
	Provisional bool
	ClosedAt    *time.Time
	Merchants   []models.MerchantResult // ranked: score desc, code asc
	Roads       []RoadResultView        // ranked: road score desc, road id asc
}

// RoadResultView is a road's result with its metrics decoded.
type RoadResultView struct {
	models.RoadResult
	Rank    int
	Metrics RoadMetrics
	Failing []string
}

// computeCountyCycle evaluates every ranked merchant and road of a county in
// cycle c from the database, inside the caller's transaction if any (closing
// a cycle). Reads of an open cycle use the cached view instead (openCounty).
func (s *Service) computeCountyCycle(ctx context.Context, county models.County, c policy.Cycle) ([]models.MerchantResult, []RoadResultView, error) {
	in, err := s.loadCountyInputs(ctx, county, c, nil)
	if err != nil {
		return nil, nil, err
	}
	cv := s.evaluateCountyView(&countyView{county: county, cycle: c}, in, 0)
	return cv.merchants, cv.roadViews, nil
}

// openCounty returns a county's evaluation of open cycle c from its view
// (see countyview.go): shared, read only.
func (s *Service) openCounty(ctx context.Context, county models.County, c policy.Cycle) ([]models.MerchantResult, []RoadResultView, error) {
	cv, err := s.countyView(ctx, county.ID, c)
	if err != nil {
		return nil, nil, err
	}
	return cv.merchants, cv.roadViews, nil
}

// rankRoadViews orders roads by road score (roads without merchants last),
// ties by id, with competition ranks.
func rankRoadViews(v []RoadResultView) {
	sort.SliceStable(v, func(i, j int) bool {
		ei, ej := v[i].Merchants == 0, v[j].Merchants == 0
		if ei != ej {
			return !ei
		}
		if v[i].ScoreCents != v[j].ScoreCents {
			return v[i].ScoreCents > v[j].ScoreCents
		}
		return v[i].RoadID < v[j].RoadID
	})
	for i := range v {
		v[i].Rank = i + 1
		if i > 0 && v[i].ScoreCents == v[i-1].ScoreCents && (v[i].Merchants == 0) == (v[i-1].Merchants == 0) {
			v[i].Rank = v[i-1].Rank
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// countyCycle returns a county's results of cycle c: frozen if closed; a cycle
// past its grace period that nobody closed yet is closed now, so what is shown
// once never changes; the current cycle (and one in grace) is live, provisional.
func (s *Service) countyCycle(ctx context.Context, county models.County, c policy.Cycle) (CountyCycle, error) {
	cc, _, err := s.countyCycleView(ctx, county, c)
	return cc, err
}

// countyCycleView is countyCycle with the view an open cycle was read from
// (nil for a closed one).
func (s *Service) countyCycleView(ctx context.Context, county models.County, c policy.Cycle) (CountyCycle, *countyView, error) {
	now := s.now()
	if cur := s.policy.CycleOf(now); cur.Before(c) {
		return CountyCycle{}, nil, Invalid(map[string]string{"cycle": "不能查询未来的考核周期"})
	}
	if s.policy.IsClosed(c, now) {
		key := frozenKey{county.ID, c.String()}
		if cc, ok := s.frozen.cycles.Load(key); ok {
			return cc.(CountyCycle), nil, nil // frozen: never changes
		}
		if _, err := s.db.ClosedCycleByName(ctx, c.String()); errors.Is(err, models.ErrNotFound) {
			if _, err := s.CloseCycle(ctx, c, "auto"); err != nil && ErrorCode(err) != CodeConflict {
				return CountyCycle{}, nil, err
			}
		}
		cc, err := s.frozenCountyCycle(ctx, county, c)
		if err == nil {
			s.frozen.keep(key, cc)
		}
		return cc, nil, err
	}
	cv, err := s.countyView(ctx, county.ID, c)
	if err != nil {
		return CountyCycle{}, nil, err
	}
	return CountyCycle{County: county, Cycle: c.String(), Provisional: true, Merchants: cv.merchants, Roads: cv.roadViews}, cv, nil
}

func (s *Service) frozenCountyCycle(ctx context.Context, county models.County, c policy.Cycle) (CountyCycle, error) {
	cl, err := s.db.ClosedCycleByName(ctx, c.String())
	if err != nil {
		return CountyCycle{}, err
	}
	ms, rs, err := s.db.FrozenResults(ctx, c.String(), county.ID)
	if err != nil {
		return CountyCycle{}, err
	}
	// The county's name and target as they were at closing (live for cycles
	// closed before those were kept).
	switch fc, err := s.db.FrozenCounty(ctx, c.String(), county.ID); {
	case err == nil:
		county.Name, county.DemoRoadTarget = fc.Name, fc.DemoRoadTarget
	case !errors.Is(err, models.ErrNotFound):
		return CountyCycle{}, err
	}
	views := make([]RoadResultView, len(rs))
	for i, r := range rs {
		views[i] = RoadResultView{RoadResult: r, Failing: []string{}}
		json.Unmarshal([]byte(r.Metrics), &views[i].Metrics)
		if r.Failing != "" {
			views[i].Failing = strings.Split(r.Failing, ",")
		}
	}
	rankRoadViews(views)
	closed := cl.ClosedAt.UTC()
	return CountyCycle{County: county, Cycle: c.String(), ClosedAt: &closed, Merchants: ms, Roads: views}, nil
}

// CloseCycle freezes cycle c's results of every county. It refuses a cycle still
// open to records (CodeConflict) and one already closed (CodeConflict); of many
// instances closing at once, one succeeds.
func (s *Service) CloseCycle(ctx context.Context, c policy.Cycle, by string) (int, error) {
	if !s.policy.IsClosed(c, s.now()) {
		return 0, Errorf(CodeConflict, "%s 仍在考核或宽限期内（截止 %s），不能关闭", c, s.policy.GraceEnd(c).In(s.policy.Location()).Format("2006-01-02 15:04"))
	}
	counties, err := s.db.ListCounties(ctx, nil)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.db.CloseCycle(ctx, models.ClosedCycle{Cycle: c.String(), ClosedAt: s.now().Truncate(time.Millisecond), ClosedBy: by},
		func(ctx context.Context) (models.FrozenCycle, error) {
			var f models.FrozenCycle
			for _, county := range counties {
				m, r, err := s.computeCountyCycle(ctx, county, c)
				if err != nil {
					return f, err
				}
				f.Counties = append(f.Counties, models.CountyResult{Cycle: c.String(), CountyID: county.ID, Code: county.Code,
					Name: county.Name, DemoRoadTarget: county.DemoRoadTarget})
				f.Merchants = append(f.Merchants, m...)
				for _, v := range r {
					f.Roads = append(f.Roads, v.RoadResult)
				}
			}
			n = len(f.Merchants)
			return f, nil
		})
	if errors.Is(err, models.ErrDuplicate) {
		return 0, Errorf(CodeConflict, "%s 已关闭", c)
	}
	return n, err
}

// CloseDueCycles closes, oldest first, the cycles of the last quarter that left
// their grace period and are not closed yet (the background job; older cycles
// are closed when a bulletin first asks for them).
func (s *Service) CloseDueCycles(ctx context.Context) ([]string, error) {
	var closed []string
	cur := s.policy.CycleOf(s.now())
	for i := 3; i >= 1; i-- {
		c := cur.Add(-i)
		if !s.policy.IsClosed(c, s.now()) {
			continue
		}
		_, err := s.db.ClosedCycleByName(ctx, c.String())
		if err == nil {
			continue
		}
		if !errors.Is(err, models.ErrNotFound) {
			return closed, err
		}
		if _, err := s.CloseCycle(ctx, c, "auto"); err != nil {
			if ErrorCode(err) == CodeConflict {
				continue // another instance closed it first
			}
			return closed, err
		}
		closed = append(closed, c.String())
	}
	return closed, nil
}

// DemonstrationView is a county's demonstration-road progress now.
type DemonstrationView struct {
	County     models.County
	Cycle      string
	Target     int
	Designated int
	Accepted   int
	Qualified  int
	Roads      []RoadResultView
}

// Demonstration returns the county's demonstration roads with metrics and
// qualification for the current cycle (county users).
func (s *Service) Demonstration(ctx context.Context, a Actor, countyID int64) (DemonstrationView, error) {
	county, err := s.countyForReport(ctx, a, countyID)
	if err != nil {
		return DemonstrationView{}, err
	}
	c := s.policy.CycleOf(s.now())
	_, roads, err := s.openCounty(ctx, county, c)
	if err != nil {
		return DemonstrationView{}, err
	}
	return demonstrationOf(county, c.String(), roads), nil
}

func demonstrationOf(county models.County, cycle string, roads []RoadResultView) DemonstrationView {
	v := DemonstrationView{County: county, Cycle: cycle, Target: county.DemoRoadTarget, Roads: []RoadResultView{}}
	for _, r := range roads {
		if r.DemoStatus == DemoNone {
			continue
		}
		if designated(r.DemoStatus) {
			v.Designated++
			if r.Qualified {
				v.Qualified++
			}
		}
		if r.DemoStatus == DemoAccepted {
			v.Accepted++
		}
		v.Roads = append(v.Roads, r)
	}
	return v
}

// countyForReport: admins and officers of the county, and the city admin.
func (s *Service) countyForReport(ctx context.Context, a Actor, countyID int64) (models.County, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return models.County{}, errForbidden
	}
	return s.County(ctx, a, countyID)
}

// CountyRank is one line of the city's county ranking.
type CountyRank struct {
	Rank      int
	County    models.County
	Qualified int
	Target    int
	Score     float64 // average live score of the county's active merchants
	Merchants int
}

// CountyBoard ranks counties by demonstration roads qualified now, then by the
// average live score of their merchants (city admin).
func (s *Service) CountyBoard(ctx context.Context, a Actor) ([]CountyRank, error) {
	if !a.IsCity() {
		return nil, errForbidden
	}
	c := s.policy.CycleOf(s.now())
	views, err := viewBoard{s: s}.views(ctx, c, leaderboard.Scope{Kind: leaderboard.City})
	if err != nil {
		return nil, err
	}
	out := make([]CountyRank, 0, len(views))
	sums := map[int64]int64{}
	for _, cv := range views {
		qualified := 0
		for _, r := range cv.roadViews {
			if designated(r.DemoStatus) && r.Qualified {
				qualified++
			}
		}
		n := len(cv.merchants)
		sums[cv.county.ID] = cents(cv.sum, n)
		out = append(out, CountyRank{County: cv.county, Qualified: qualified, Target: cv.county.DemoRoadTarget,
			Score: float64(cents(cv.sum, n)) / 100, Merchants: n})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Qualified != out[j].Qualified {
			return out[i].Qualified > out[j].Qualified
		}
		if sums[out[i].County.ID] != sums[out[j].County.ID] {
			return sums[out[i].County.ID] > sums[out[j].County.ID]
		}
		return out[i].County.Code < out[j].County.Code
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && out[i].Qualified == out[i-1].Qualified && sums[out[i].County.ID] == sums[out[i-1].County.ID] {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out, nil
}
