package service

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
	"github.com/menqian/menqian/service/shrinkage"
)

// Bounds of the enforcement-fairness report.
const (
	// FairnessMinStrength is the floor of every prior's strength, in the
	// rate's own trials (inspections, deductions, notices): a unit with a
	// handful of trials stays close to the county mean, so it can neither
	// top the table nor be flagged on luck.
	FairnessMinStrength = 10
	FairnessMaxCycles   = 24 // the longest range of cycles
	FairnessCycles      = 6  // the default range: the last six cycles
	// fairnessMinWithin is the floor of the within-officer variance of
	// points: points are whole numbers, so a mean is known no better than
	// the variance of rounding (1/12) even when all values agree.
	fairnessMinWithin = 1.0 / 12
)

// FairnessMetric is one rate of the fairness report.
type FairnessMetric struct {
	Key   string // stable name, in the API and the downloads
	Name  string // what the page calls it
	Of    string // what its trials are
	Model string // "gamma-poisson", "normal" or "beta-binomial"
	// Percent: a share, shown as a percentage; else a mean shown as a number.
	Percent bool
}

// The rates of the fairness report, in the order of FairnessLine.Rates.
var FairnessMetrics = []FairnessMetric{
	{Key: "deductions_per_inspection", Name: "每次巡查扣分项数", Of: "巡查", Model: "gamma-poisson"},
	{Key: "points_per_deduction", Name: "每项扣分分值", Of: "扣分项", Model: "normal"},
	{Key: "serious_share", Name: "严重问题占比", Of: "扣分项", Model: "beta-binomial", Percent: true},
	{Key: "bonus_share", Name: "加分项占比", Of: "扣分和加分项", Model: "beta-binomial", Percent: true},
	{Key: "reversal_rate", Name: "申诉撤销率", Of: "扣分项", Model: "beta-binomial", Percent: true},
	{Key: "notice_deduction_share", Name: "整改通知转扣分率", Of: "整改通知", Model: "beta-binomial", Percent: true},
}

// FairnessMetricIndex is the position of the metric key in FairnessMetrics, or -1.
func FairnessMetricIndex(key string) int {
	return slices.IndexFunc(FairnessMetrics, func(m FairnessMetric) bool { return m.Key == key })
}

// FairnessLine is one officer or road of the report.
type FairnessLine struct {
	ID   int64
	Name string
	// Counts over the range: inspections, the deduction items they recorded
	// (with their points, serious ones, those appealed and those reversed on
	// an accepted appeal), bonus items, rectification notices issued and
	// those that became deductions.
	Inspections, Deductions, Points, Serious, Bonuses, Appealed, Reversed int
	Notices, NoticesDeducted                                              int
	pointSquares                                                          int // Σ points², for the within variance
	// Rates are the estimates of FairnessMetrics, in its order.
	Rates []shrinkage.Estimate
	// Flagged: some rate's interval excludes its peer mean.
	Flagged bool
	// Agreement with the random audits (抽查) of the range on the same shops
	// in the same cycles (officers only; nil when no audited shop compares).
	Agreement *OfficerAgreement
}

// FairnessGroup is the report's lines of one kind (officers or roads) with
// the county priors their rates were shrunk towards.
type FairnessGroup struct {
	Lines  []FairnessLine
	Priors []shrinkage.Prior // in the order of FairnessMetrics
}

// FairnessReport compares a county's officers and roads over a range of
// cycles: is one of them treated differently from its peers?
type FairnessReport struct {
	County   models.County
	From, To string // cycles, inclusive
	Officers FairnessGroup
	Roads    FairnessGroup
}

// FairnessRange checks a range of cycles for the report: empty ends default
// to the last FairnessCycles cycles up to the current one. Errors: CodeInvalid.
func (s *Service) FairnessRange(from, to string) (string, string, error) {
	cur := s.policy.CycleOf(s.now())
	f := fieldErrors{}
	parse := func(field, v string, def policy.Cycle) policy.Cycle {
		if v == "" {
			return def
		}
		c, err := policy.ParseCycle(v)
		if err != nil {
			f.add(field, "格式应为 YYYY-MM")
		} else if cur.Before(c) {
			f.add(field, "不能晚于本月")
		}
		return c
	}
	t := parse("to", to, cur)
	fr := parse("from", from, t.Add(-(FairnessCycles - 1)))
	if len(f) == 0 {
		switch {
		case t.Before(fr):
			f.add("from", "起始月份不能晚于结束月份")
		case t.Index()-fr.Index() >= FairnessMaxCycles:
			f.add("from", fmt.Sprintf("最多统计 %d 个月", FairnessMaxCycles))
		}
	}
	return fr.String(), t.String(), f.err()
}

// FairnessReport builds the enforcement-fairness report of a county over the
// cycles from..to (see FairnessRange) for its county admin or the city
// admin. Errors: CodeForbidden (another role), CodeNotFound (another
// county), CodeInvalid (the range).
func (s *Service) FairnessReport(ctx context.Context, a Actor, countyID int64, from, to string) (FairnessReport, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return FairnessReport{}, errForbidden
	}
	county, err := s.County(ctx, a, countyID)
	if err != nil {
		return FairnessReport{}, err
	}
	if from, to, err = s.FairnessRange(from, to); err != nil {
		return FairnessReport{}, err
	}
	r := FairnessReport{County: county, From: from, To: to}
	if r.Officers, err = s.fairnessGroup(ctx, county.ID, from, to, models.ByOfficer); err != nil {
		return FairnessReport{}, err
	}
	if r.Roads, err = s.fairnessGroup(ctx, county.ID, from, to, models.ByRoad); err != nil {
		return FairnessReport{}, err
	}
	agreements, err := s.AuditAgreement(ctx, a, county.ID, from, to)
	if err != nil {
		return FairnessReport{}, err
	}
	for _, ag := range agreements {
		for i := range r.Officers.Lines {
			if r.Officers.Lines[i].ID == ag.OfficerID {
				r.Officers.Lines[i].Agreement = &ag
			}
		}
	}
	return r, nil
}

// fairnessGroup reads one kind of unit's tallies and estimates their rates.
func (s *Service) fairnessGroup(ctx context.Context, countyID int64, from, to string, by models.FairnessUnit) (FairnessGroup, error) {
	tallies, err := s.db.FairnessTallies(ctx, countyID, from, to, by)
	if err != nil {
		return FairnessGroup{}, err
	}
	fc, _ := policy.ParseCycle(from)
	tc, _ := policy.ParseCycle(to)
	notices, err := s.db.FairnessNotices(ctx, countyID, s.policy.CycleStart(fc), s.policy.CycleStart(tc.Next()), by)
	if err != nil {
		return FairnessGroup{}, err
	}
	lines := map[int64]*FairnessLine{}
	line := func(id int64) *FairnessLine {
		if l, ok := lines[id]; ok {
			return l
		}
		l := &FairnessLine{ID: id, Name: fmt.Sprintf("#%d", id)}
		lines[id] = l
		return l
	}
	for _, t := range tallies {
		l := line(t.Unit)
		l.Inspections, l.Deductions, l.Points, l.pointSquares, l.Serious, l.Bonuses, l.Appealed, l.Reversed =
			t.Inspections, t.Deductions, t.Points, t.PointSquares, t.Serious, t.Bonuses, t.Appealed, t.Reversed
	}
	for _, n := range notices {
		l := line(n.Unit)
		l.Notices, l.NoticesDeducted = n.Notices, n.Deducted
	}
	names, err := s.db.FairnessNames(ctx, countyID, by, slices.Collect(maps.Keys(lines)))
	if err != nil {
		return FairnessGroup{}, err
	}
	for _, n := range names {
		line(n.ID).Name = n.Name
	}
	out := make([]FairnessLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b FairnessLine) int {
		return cmp.Or(cmp.Compare(b.Inspections, a.Inspections), cmp.Compare(a.ID, b.ID))
	})
	return FairnessGroup{Lines: out, Priors: estimateFairness(out)}, nil
}

// estimateFairness fills every line's Rates and Flagged and returns the
// priors, in the order of FairnessMetrics.
func estimateFairness(lines []FairnessLine) []shrinkage.Prior {
	counts := func(of func(FairnessLine) (events, trials int)) []shrinkage.Count {
		out := make([]shrinkage.Count, len(lines))
		for i, l := range lines {
			e, t := of(l)
			out[i] = shrinkage.Count{Events: float64(e), Trials: float64(t)}
		}
		return out
	}
	points := make([]shrinkage.Sample, len(lines))
	for i, l := range lines {
		points[i] = shrinkage.Sample{N: float64(l.Deductions), Sum: float64(l.Points), Squares: float64(l.pointSquares)}
	}
	type fit func() (shrinkage.Prior, []shrinkage.Estimate)
	proportion := func(of func(FairnessLine) (int, int)) fit {
		return func() (shrinkage.Prior, []shrinkage.Estimate) {
			return shrinkage.ShrinkProportions(counts(of), FairnessMinStrength)
		}
	}
	fits := []fit{
		func() (shrinkage.Prior, []shrinkage.Estimate) {
			return shrinkage.ShrinkRates(counts(func(l FairnessLine) (int, int) { return l.Deductions, l.Inspections }), FairnessMinStrength)
		},
		func() (shrinkage.Prior, []shrinkage.Estimate) {
			return shrinkage.ShrinkMeans(points, FairnessMinStrength, fairnessMinWithin)
		},
		proportion(func(l FairnessLine) (int, int) { return l.Serious, l.Deductions }),
		proportion(func(l FairnessLine) (int, int) { return l.Bonuses, l.Deductions + l.Bonuses }),
		proportion(func(l FairnessLine) (int, int) { return l.Reversed, l.Deductions }),
		proportion(func(l FairnessLine) (int, int) { return l.NoticesDeducted, l.Notices }),
	}
	priors := make([]shrinkage.Prior, len(fits))
	for i := range lines {
		lines[i].Rates = make([]shrinkage.Estimate, len(fits))
	}
	for m, f := range fits {
		pr, est := f()
		priors[m] = pr
		for i := range lines {
			lines[i].Rates[m] = est[i]
			lines[i].Flagged = lines[i].Flagged || est[i].Flag != 0
		}
	}
	return priors
}
