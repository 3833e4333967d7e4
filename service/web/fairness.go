package web

import (
	"math"
	"net/http"
	"strconv"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
	"github.com/menqian/menqian/service/shrinkage"
)

// fairnessCell is one rate of a line of the report's table, in words.
type fairnessCell struct {
	Metric                   string // the metric's key
	Estimate, Low, High, Raw string
	Peer                     string // "—" without peers
	Trials                   int
	Flag                     string // 偏高, 偏低 or ""
	Shown                    bool   // the metric the chart draws
}

// fairnessRow is an officer or road of the report's table.
type fairnessRow struct {
	ID          int64
	Name        string
	Inspections int
	Flagged     bool
	Cells       []fairnessCell
	Agreement   *service.OfficerAgreement
}

// fairnessChart is the dot-and-interval chart of one rate: a row per unit
// with trials, its estimate a dot, its interval a line, its peer mean a
// short vertical stroke; the county mean a dashed line across.
type fairnessChart struct {
	Width, Height, PlotX, PlotW int
	MeanX                       string
	Rows                        []fairnessDot
	Ticks                       []fairnessTick
}

type fairnessDot struct {
	ID                int64
	Y, Top, Bottom    int // the row's centre and its peer stroke's ends
	Label, Note       string
	X, LoX, HiX, Peer string // x positions
	HasPeer, Flagged  bool
}

type fairnessTick struct {
	X     string
	Label string
}

// fairnessFigure writes a rate: a share as a percentage, a mean with two decimals.
func fairnessFigure(percent bool, v float64) string {
	if percent {
		return percentOf(v)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

var fairnessFlags = map[int]string{1: "偏高", -1: "偏低"}

// fairness shows a county's enforcement-fairness report: officers or roads
// (?by=), over a range of cycles (?from=&to=), a table of every rate and a
// chart of one (?metric=); the city admin picks the county.
func (p *Pages) fairness(w http.ResponseWriter, r *http.Request) {
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	countyID, counties, err := p.officeCounty(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	by := q.Get("by")
	if by != "road" {
		by = "officer"
	}
	metric := service.FairnessMetricIndex(q.Get("metric"))
	if metric < 0 {
		metric = 0
	}
	from, to, err := p.svc.FairnessRange(q.Get("from"), q.Get("to"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cur := p.svc.Policy().CycleOf(p.svc.Now())
	v := view{"Console": true, "Tab": "fairness", "City": a.IsCity(), "Counties": counties, "CountyID": countyID,
		"From": from, "To": to, "By": by, "Metrics": service.FairnessMetrics, "Metric": service.FairnessMetrics[metric],
		"Months": fairnessMonths(cur), "Level": percentOf(shrinkage.Level), "MinStrength": service.FairnessMinStrength}
	if countyID == 0 {
		p.render(w, r, http.StatusOK, "console_fairness.html", v) // the city admin picks a county first
		return
	}
	rep, err := p.svc.FairnessReport(ctx, a, countyID, from, to)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	g := rep.Officers
	if by == "road" {
		g = rep.Roads
	}
	rows := make([]fairnessRow, len(g.Lines))
	flagged := []string{}
	for i, l := range g.Lines {
		row := fairnessRow{ID: l.ID, Name: l.Name, Inspections: l.Inspections, Flagged: l.Flagged, Agreement: l.Agreement}
		for m, e := range l.Rates {
			pc := service.FairnessMetrics[m].Percent
			c := fairnessCell{Metric: service.FairnessMetrics[m].Key, Estimate: fairnessFigure(pc, e.Mean), Low: fairnessFigure(pc, e.Lo),
				High: fairnessFigure(pc, e.Hi), Raw: fairnessFigure(pc, e.Raw), Peer: "—", Trials: int(e.Trials), Flag: fairnessFlags[e.Flag],
				Shown: m == metric}
			if e.HasPeers {
				c.Peer = fairnessFigure(pc, e.Peer)
			}
			row.Cells = append(row.Cells, c)
		}
		if l.Rates[metric].Flag != 0 {
			flagged = append(flagged, l.Name)
		}
		rows[i] = row
	}
	pr := g.Priors[metric]
	v["Report"], v["Rows"], v["Flagged"] = rep, rows, flagged
	v["Prior"] = map[string]string{"Mean": fairnessFigure(service.FairnessMetrics[metric].Percent, pr.Mean),
		"Strength": strconv.FormatFloat(pr.Strength, 'f', 1, 64)}
	v["Degenerate"] = pr.Degenerate
	v["Chart"] = newFairnessChart(g, metric)
	p.render(w, r, http.StatusOK, "console_fairness.html", v)
}

// fairnessMonths are the months the range may start or end at: the last
// FairnessMaxCycles up to the current one, newest first.
func fairnessMonths(cur policy.Cycle) []cycleChoice {
	out := make([]cycleChoice, service.FairnessMaxCycles)
	for i := range out {
		c := cur.Add(-i)
		out[i] = cycleChoice{Cycle: c.String(), Label: monthName(c)}
	}
	return out
}

// newFairnessChart lays out the chart of metric over the lines with trials.
func newFairnessChart(g service.FairnessGroup, metric int) *fairnessChart {
	const rowH, top, labelW, width = 34, 36, 190, 900
	ch := &fairnessChart{Width: width, PlotX: labelW, PlotW: width - labelW - 70}
	lo, hi := g.Priors[metric].Mean, g.Priors[metric].Mean
	var lines []int
	for i, l := range g.Lines {
		e := l.Rates[metric]
		if e.Trials == 0 {
			continue
		}
		lines = append(lines, i)
		lo, hi = math.Min(lo, e.Lo), math.Max(hi, e.Hi)
		if e.HasPeers {
			lo, hi = math.Min(lo, e.Peer), math.Max(hi, e.Peer)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	percent := service.FairnessMetrics[metric].Percent
	lo, hi = niceRange(lo, hi, percent)
	x := func(v float64) string {
		return strconv.FormatFloat(float64(ch.PlotX)+(v-lo)/(hi-lo)*float64(ch.PlotW), 'f', 1, 64)
	}
	for k := range 5 {
		v := lo + (hi-lo)*float64(k)/4
		ch.Ticks = append(ch.Ticks, fairnessTick{X: x(v), Label: fairnessFigure(percent, v)})
	}
	ch.MeanX = x(g.Priors[metric].Mean)
	for n, i := range lines {
		l, e := g.Lines[i], g.Lines[i].Rates[metric]
		y := top + n*rowH + rowH/2
		d := fairnessDot{ID: l.ID, Y: y, Top: y - rowH/2 + 5, Bottom: y + rowH/2 - 5, Label: l.Name, Note: fairnessFlags[e.Flag],
			X: x(e.Mean), LoX: x(e.Lo), HiX: x(e.Hi), HasPeer: e.HasPeers, Flagged: e.Flag != 0}
		if e.HasPeers {
			d.Peer = x(e.Peer)
		}
		ch.Rows = append(ch.Rows, d)
	}
	ch.Height = top + len(lines)*rowH + 10
	return ch
}

// niceRange widens [lo, hi] to round ends: whole percents for shares (within
// 0..1), tenths for means.
func niceRange(lo, hi float64, percent bool) (float64, float64) {
	step := 0.1
	if percent {
		step = 0.05
	}
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if hi-lo < step {
		hi = lo + step
	}
	if percent {
		lo, hi = math.Max(lo, 0), math.Min(hi, 1)
	}
	return math.Max(lo, 0), hi
}
