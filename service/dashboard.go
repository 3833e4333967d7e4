package service

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// Sizes of the county dashboard.
const (
	DashboardAppeals = 10 // pending appeals listed, the longest waiting first
	TrendCycles      = 12 // cycles of the score trend, the current one last
)

// CountyDashboard is a county's current cycle at a glance: the county
// office's home page.
type CountyDashboard struct {
	County         models.County
	Cycle          string
	Merchants      int     // active merchants ranked in the cycle
	Inspected      int     // of them, inspected at least once in the cycle
	InspectedShare float64 // Inspected / Merchants, 4 decimals
	AverageScore   float64 // average live score, 2 decimals
	Stars          []int   // merchants by rated (displayed) star: Stars[n] have n★
	UnderWatch     int     // live score below the policy's 重点监管 line
	OpenNotices    int     // rectification notices not yet confirmed fixed
	OverdueNotices int     // of them, past their deadline now
	PendingAppeals int
	OverdueAppeals int             // pending past AppealDecisionDue
	Appeals        []PendingAppeal // at most DashboardAppeals, the longest waiting first
	Demonstration  DemonstrationView
	Roads          []leaderboard.RoadEntry // the road ranking (RoadBoard)
	Trend          []TrendPoint            // TrendCycles cycles, oldest first
	// Cases are the citizens' cases (随手拍): received and closed in the
	// cycle, open and overdue now, and the on-time closure rate; per officer
	// the cases dispatched to each (the county's queue is not an officer).
	Cases        CaseStatLine
	CaseOfficers []OfficerCases
}

// OfficerCases is one officer's line of the county's case figures.
type OfficerCases struct {
	Name string
	CaseStatLine
}

// PendingAppeal is an appeal waiting for the county's decision.
type PendingAppeal struct {
	models.PendingAppealLine
	Due     time.Time // AppealDecisionDue
	Overdue bool
}

// TrendPoint is a county's average score in one cycle.
type TrendPoint struct {
	Cycle     policy.Cycle
	Merchants int     // 0: the county had no merchant then (no average)
	Average   float64 // 2 decimals
	Frozen    bool    // from the frozen results of the closed cycle
	Current   bool    // the cycle in progress (live)
}

// CountyDashboard gathers a county's dashboard (its county admin, or the city
// admin); every figure is the one the county's reports, rankings and lists
// give for the same cycle.
func (s *Service) CountyDashboard(ctx context.Context, a Actor, countyID int64) (CountyDashboard, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return CountyDashboard{}, errForbidden
	}
	county, err := s.County(ctx, a, countyID)
	if err != nil {
		return CountyDashboard{}, err
	}
	now := s.now()
	c := s.policy.CycleOf(now)
	cv, err := s.countyView(ctx, county.ID, c)
	if err != nil {
		return CountyDashboard{}, err
	}
	n, sum := len(cv.merchants), cv.sum
	d := CountyDashboard{County: county, Cycle: c.String(), Merchants: n, Stars: slices.Clone(cv.stars),
		Inspected: cv.inspected, UnderWatch: cv.underWatch, Demonstration: demonstrationOf(county, c.String(), cv.roadViews)}
	d.InspectedShare = share(d.Inspected, n)
	d.AverageScore = float64(cents(sum, n)) / 100

	if d.OpenNotices, d.OverdueNotices, err = s.noticeCounts(ctx, county.ID); err != nil {
		return CountyDashboard{}, err
	}
	if d.PendingAppeals, d.OverdueAppeals, err = s.db.CountPendingAppeals(ctx, county.ID, now.Add(-AppealDecisionWindow)); err != nil {
		return CountyDashboard{}, err
	}
	lines, err := s.db.OldestPendingAppeals(ctx, county.ID, DashboardAppeals)
	if err != nil {
		return CountyDashboard{}, err
	}
	d.Appeals = make([]PendingAppeal, len(lines))
	for i, l := range lines {
		due := AppealDecisionDue(l.Appeal)
		d.Appeals[i] = PendingAppeal{PendingAppealLine: l, Due: due, Overdue: now.After(due)}
	}
	if d.Roads, err = s.RoadBoard(ctx, a, county.ID, ""); err != nil {
		return CountyDashboard{}, err
	}
	if d.Trend, err = s.scoreTrend(ctx, county.ID, c, n, sum); err != nil {
		return CountyDashboard{}, err
	}
	if d.Cases, d.CaseOfficers, err = s.dashboardCases(ctx, a, county.ID, c); err != nil {
		return CountyDashboard{}, err
	}
	return d, nil
}

// dashboardCases are the county's case figures of cycle c, and its officers'.
func (s *Service) dashboardCases(ctx context.Context, a Actor, countyID int64, c policy.Cycle) (CaseStatLine, []OfficerCases, error) {
	st, err := s.CaseStats(ctx, a, countyID, s.policy.CycleStart(c), s.policy.CycleStart(c.Next()))
	if err != nil {
		return CaseStatLine{}, nil, err
	}
	var county CaseStatLine
	for _, l := range st.Counties {
		if l.CountyID == countyID {
			county = l
		}
	}
	var ids []int64
	for _, l := range st.Officers {
		if l.OfficerID != 0 {
			ids = append(ids, l.OfficerID)
		}
	}
	if len(ids) == 0 {
		return county, nil, nil
	}
	users, err := s.db.UsersByIDs(ctx, ids)
	if err != nil {
		return CaseStatLine{}, nil, err
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = cmp.Or(u.DisplayName, u.Username)
	}
	var out []OfficerCases
	for _, l := range st.Officers {
		if l.OfficerID != 0 && l.CountyID == countyID {
			out = append(out, OfficerCases{Name: names[l.OfficerID], CaseStatLine: l})
		}
	}
	slices.SortFunc(out, func(x, y OfficerCases) int {
		return cmp.Or(cmp.Compare(y.Overdue, x.Overdue), cmp.Compare(x.Name, y.Name))
	})
	return county, out, nil
}

// noticeCounts counts a county's open notices and the overdue ones among them,
// as the notices worklist totals them.
func (s *Service) noticeCounts(ctx context.Context, countyID int64) (open, overdue int, err error) {
	return s.db.CountOpenNotices(ctx, countyID, s.now())
}

// scoreTrend is the county's average score in the TrendCycles cycles up to
// cur: the live average of cur (merchants and sum), the frozen results of
// closed cycles, and for a past cycle not closed (yet) the average its
// results would have, from the score rows; cycles before the county's first
// merchant have none.
func (s *Service) scoreTrend(ctx context.Context, countyID int64, cur policy.Cycle, merchants, sum int) ([]TrendPoint, error) {
	out := make([]TrendPoint, TrendCycles)
	names := make([]string, TrendCycles)
	for i := range out {
		out[i].Cycle = cur.Add(i - TrendCycles + 1)
		names[i] = out[i].Cycle.String()
	}
	closed, frozen, err := s.frozenTallies(ctx, countyID, names)
	if err != nil {
		return nil, err
	}
	cv, err := s.countyView(ctx, countyID, cur)
	if err != nil {
		return nil, err
	}
	first := cv.firstRegistration
	for i := range out {
		p := &out[i]
		switch {
		case i == TrendCycles-1:
			p.Current, p.Merchants, p.Average = true, merchants, float64(cents(sum, merchants))/100
		case closed[names[i]]:
			t := frozen[names[i]]
			p.Frozen, p.Merchants, p.Average = true, t.Merchants, float64(cents(int(t.Total), t.Merchants))/100
		case first.IsZero() || p.Cycle.Before(s.policy.CycleOf(first)):
			// no merchant yet
		default: // a cycle in its grace period (or one nobody closed yet): live, as its results would be
			past, err := s.countyView(ctx, countyID, p.Cycle)
			if err != nil {
				return nil, err
			}
			p.Merchants, p.Average = len(past.merchants), float64(cents(past.sum, len(past.merchants)))/100
		}
	}
	return out, nil
}

// CountyComparison is one county in the city office's comparison: its place
// in the county ranking and how far its patrols and notices are.
type CountyComparison struct {
	CountyRank
	Inspected      int          // active merchants inspected in the current cycle
	InspectedShare float64      // Inspected / Merchants, 4 decimals
	OverdueNotices int          // open notices past their deadline now
	Cases          CaseStatLine // citizens' cases: this cycle's, open and overdue now, the on-time rate
}

// CompareCounties is the county ranking (CountyBoard) with each county's
// inspected share, overdue notices and citizens' cases (city admin).
func (s *Service) CompareCounties(ctx context.Context, a Actor) ([]CountyComparison, error) {
	board, err := s.CountyBoard(ctx, a)
	if err != nil {
		return nil, err
	}
	c := s.policy.CycleOf(s.now())
	cases, err := s.CaseStats(ctx, a, 0, s.policy.CycleStart(c), s.policy.CycleStart(c.Next()))
	if err != nil {
		return nil, err
	}
	byCounty := map[int64]CaseStatLine{}
	for _, l := range cases.Counties {
		byCounty[l.CountyID] = l
	}
	out := make([]CountyComparison, len(board))
	for i, r := range board {
		out[i].CountyRank = r
		out[i].Cases = byCounty[r.County.ID]
		cv, err := s.countyView(ctx, r.County.ID, c)
		if err != nil {
			return nil, err
		}
		out[i].Inspected = cv.inspected
		out[i].InspectedShare = share(out[i].Inspected, r.Merchants)
		if _, out[i].OverdueNotices, err = s.noticeCounts(ctx, r.County.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// frozenTallies tells which of cycles are closed and what each closed one's
// frozen results of the county add up to. Both never change once a cycle is
// closed, so they are remembered (bounded by counties × cycles).
func (s *Service) frozenTallies(ctx context.Context, countyID int64, cycles []string) (map[string]bool, map[string]models.CountyTally, error) {
	closed := map[string]bool{}
	tallies := map[string]models.CountyTally{}
	var unknown, missing []string
	for _, c := range cycles {
		if _, ok := s.frozen.closed.Load(c); ok {
			closed[c] = true
			if t, ok := s.frozen.tallies.Load(frozenKey{countyID, c}); ok {
				tallies[c] = t.(models.CountyTally)
			} else {
				missing = append(missing, c)
			}
		} else {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		now, err := s.db.ClosedCyclesAmong(ctx, unknown)
		if err != nil {
			return nil, nil, err
		}
		for c := range now {
			s.frozen.closed.Store(c, true)
			closed[c] = true
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		got, err := s.db.FrozenCountyTallies(ctx, countyID, missing)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range missing {
			t := got[c] // none: the county had no shop then
			tallies[c] = t
			s.frozen.tallies.Store(frozenKey{countyID, c}, t)
		}
	}
	return closed, tallies, nil
}

type frozenKey struct {
	county int64
	cycle  string
}

// frozenCache remembers what closed cycles froze.
type frozenCache struct {
	closed  sync.Map // cycle → true, once closed
	tallies sync.Map // frozenKey → models.CountyTally

	mu        sync.Mutex
	cycles    sync.Map // frozenKey → CountyCycle, at most maxFrozenCycles
	bulletins sync.Map // frozenKey → Bulletin, of the cycles kept
	kept      int
}

// maxFrozenCycles bounds the closed county cycles kept whole (20,000 shops
// take about 5 MB); past it all are forgotten.
const maxFrozenCycles = 24

// keep remembers a closed county cycle.
func (f *frozenCache) keep(k frozenKey, cc CountyCycle) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.kept >= maxFrozenCycles {
		f.cycles.Clear()
		f.bulletins.Clear()
		f.kept = 0
	}
	if _, loaded := f.cycles.LoadOrStore(k, cc); !loaded {
		f.kept++
	}
}
