package web

import (
	"fmt"
	"net/http"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// historyMonths is how many months the merchant's ledger page shows.
const historyMonths = 12

// merchantLedger is the merchant's ledger of one month, with the months to
// choose from and the last twelve months' scores as a chart.
func (p *Pages) merchantLedger(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	hist, err := p.svc.ScoreHistory(ctx, a, a.MerchantID, historyMonths)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cycle := r.URL.Query().Get("cycle")
	entries, res, err := p.svc.Ledger(ctx, a, a.MerchantID, cycle)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "merchant_ledger.html", view{"Tab": "ledger", "Cycle": res.Cycle, "R": res,
		"Entries": p.entryLines(entries), "History": hist, "Chart": scoreChart(hist, p.svc.Policy())})
}

// chart is a server-rendered SVG line chart of monthly scores.
type chart struct {
	Width, Height int
	Line          string // polyline points
	Points        []chartPoint
	Grid          []chartGrid
}

type chartPoint struct {
	X, Y      int
	Label     string // the month, under the axis (every other month when crowded)
	Value     int
	ShowValue bool // the value over the point: the last month (the table has all)
	Cycle     policy.Cycle
	LabelY    int
}

type chartGrid struct {
	Y     int
	Value int
}

// scoreChart lays out scores from 60 (or lower, when a score is) to the
// policy's top score; each month gets a labelled point.
func scoreChart(hist []service.CycleScore, pol *policy.Policy) chart {
	const w, h, left, right, top, bottom = 360, 230, 48, 24, 30, 40
	lo, hi := 60, pol.MaxScore
	for _, c := range hist {
		lo = min(lo, c.Score/10*10)
	}
	ch := chart{Width: w, Height: h}
	y := func(v int) int { return top + (hi-v)*(h-top-bottom)/max(1, hi-lo) }
	for v := lo; v <= hi; v += 10 {
		if (v-lo)%20 == 0 { // every 20 points: labels of 18 px never touch
			ch.Grid = append(ch.Grid, chartGrid{Y: y(v), Value: v})
		}
	}
	n := len(hist)
	for i, c := range hist {
		x := left + (w-left-right)/2
		if n > 1 {
			x = left + i*(w-left-right)/(n-1)
		}
		pt := chartPoint{X: x, Y: y(c.Score), Value: c.Score, Cycle: c.Cycle, LabelY: h - 10, ShowValue: i == n-1}
		if n <= 6 || (n-1-i)%2 == 0 {
			pt.Label = fmt.Sprintf("%d月", int(c.Cycle.Month))
		}
		ch.Points = append(ch.Points, pt)
		if ch.Line != "" {
			ch.Line += " "
		}
		ch.Line += fmt.Sprintf("%d,%d", pt.X, pt.Y)
	}
	return ch
}
