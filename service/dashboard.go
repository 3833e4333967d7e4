package service

import (
	"context"
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
	ms, roads, err := s.openCounty(ctx, county, c)
	if err != nil {
		return CountyDashboard{}, err
	}
	d := CountyDashboard{County: county, Cycle: c.String(), Merchants: len(ms), Stars: make([]int, len(s.policy.StarThresholds)+1),
		Demonstration: demonstrationOf(county, c.String(), roads)}
	sum := 0
	for _, m := range ms {
		sum += m.Score
		if m.Inspected {
			d.Inspected++
		}
		if m.RatedStar >= 0 && m.RatedStar < len(d.Stars) {
			d.Stars[m.RatedStar]++
		}
		if s.policy.UnderWatch(m.Score) {
			d.UnderWatch++
		}
	}
	d.InspectedShare = share(d.Inspected, len(ms))
	d.AverageScore = float64(cents(sum, len(ms))) / 100

	if d.OpenNotices, d.OverdueNotices, err = s.noticeCounts(ctx, a, county.ID); err != nil {
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
	if d.Trend, err = s.scoreTrend(ctx, county.ID, c, len(ms), sum); err != nil {
		return CountyDashboard{}, err
	}
	return d, nil
}

// noticeCounts counts a county's open notices and the overdue ones among them,
// as the notices worklist does.
func (s *Service) noticeCounts(ctx context.Context, a Actor, countyID int64) (open, overdue int, err error) {
	for _, st := range []struct {
		status string
		n      *int
	}{{NoticesOpen, &open}, {NoticesOverdue, &overdue}} {
		_, total, err := s.NoticeList(ctx, a, NoticeFilter{CountyID: countyID, Status: st.status, Paging: Paging{Limit: 1}})
		if err != nil {
			return 0, 0, err
		}
		*st.n = int(total)
	}
	return open, overdue, nil
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
	frozen, err := s.db.FrozenCountyTallies(ctx, countyID, names)
	if err != nil {
		return nil, err
	}
	closed, err := s.db.ClosedCyclesAmong(ctx, names)
	if err != nil {
		return nil, err
	}
	first, err := s.db.FirstRegistration(ctx, countyID)
	if err != nil {
		return nil, err
	}
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
		default:
			tallies, err := s.db.RoadTallies(ctx, names[i], s.policy.BaseScore, countyID, s.policy.CycleStart(p.Cycle.Next()))
			if err != nil {
				return nil, err
			}
			var total int64
			for _, t := range tallies {
				total += t.Total
				p.Merchants += t.Merchants
			}
			p.Average = float64(cents(int(total), p.Merchants)) / 100
		}
	}
	return out, nil
}

// CountyComparison is one county in the city office's comparison: its place
// in the county ranking and how far its patrols and notices are.
type CountyComparison struct {
	CountyRank
	Inspected      int     // active merchants inspected in the current cycle
	InspectedShare float64 // Inspected / Merchants, 4 decimals
	OverdueNotices int     // open notices past their deadline now
}

// CompareCounties is the county ranking (CountyBoard) with each county's
// inspected share and overdue notices (city admin).
func (s *Service) CompareCounties(ctx context.Context, a Actor) ([]CountyComparison, error) {
	board, err := s.CountyBoard(ctx, a)
	if err != nil {
		return nil, err
	}
	c := s.CurrentCycle()
	out := make([]CountyComparison, len(board))
	for i, r := range board {
		out[i].CountyRank = r
		if out[i].Inspected, err = s.db.InspectedActive(ctx, r.County.ID, c); err != nil {
			return nil, err
		}
		out[i].InspectedShare = share(out[i].Inspected, r.Merchants)
		if _, out[i].OverdueNotices, err = s.noticeCounts(ctx, a, r.County.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
