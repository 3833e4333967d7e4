package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// countyDashboard is the county office's home: its county's cycle at a
// glance (the city admin opens a county's with ?county_id=).
func (p *Pages) countyDashboard(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id := a.CountyID
	if q := r.URL.Query().Get("county_id"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n <= 0 {
			p.fail(w, r, service.Errorf(service.CodeNotFound, "页面不存在"))
			return
		}
		id = n
	}
	d, err := p.svc.CountyDashboard(ctx, a, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pol := p.svc.Policy()
	labels := make([]string, len(d.Stars))
	values := make([]float64, len(d.Stars))
	texts := make([]string, len(d.Stars))
	stars := make([]starLine, len(d.Stars))
	for i := range d.Stars {
		n := len(d.Stars) - 1 - i // 5★ first
		labels[i], values[i] = fmt.Sprintf("%d 星", n), float64(d.Stars[n])
		stars[i] = starLine{Star: n, Merchants: d.Stars[n], Share: shareOf(d.Stars[n], d.Merchants)}
		texts[i] = fmt.Sprintf("%d 家（%s）", d.Stars[n], percentOf(stars[i].Share))
	}
	top, bottom := d.Roads, []leaderboard.RoadEntry(nil)
	if len(d.Roads) > roadsShown+roadsTail {
		top, bottom = d.Roads[:roadsShown], d.Roads[len(d.Roads)-roadsTail:]
	}
	p.render(w, r, http.StatusOK, "console_dashboard.html", view{"Console": true, "Tab": "home", "D": d,
		"StarLines": stars, "StarChart": hbars(480, labels, values, nil, texts), "Top": top, "Bottom": bottom,
		"Hidden": len(d.Roads) - len(top) - len(bottom), "TrendChart": trendChart(d.Trend, pol),
		"WatchBelow": pol.WatchBelow, "Own": a.CountyID == d.County.ID})
}

// The road ranking on the dashboard: the first roadsShown and the last
// roadsTail roads (the rankings page has them all).
const roadsShown, roadsTail = 10, 5

// starLine is one row of the star distribution's table.
type starLine struct {
	Star, Merchants int
	Share           float64
}

func shareOf(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// decimal writes a 2-decimal figure without trailing zeros: 87.5, 90.
func decimal(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// dashboardFuncs are the console's template functions.
func dashboardFuncs(pol *policy.Policy) template.FuncMap {
	return template.FuncMap{
		"percent": percentOf,
		"decimal": decimal,
		"failing": func(r service.RoadResultView) []string { return whyNotQualified(pol.Demonstration, r) },
		"demoStatus": func(s string) string { // named as the roads pages name it
			if n, ok := demoStatusNames[s]; ok {
				return n
			}
			return s
		},
	}
}

// hbarChart is a server-rendered horizontal bar chart: one labelled row per
// value, the figure written after its bar.
type hbarChart struct {
	Width, Height int
	BarX          int // where the bars begin (the labels end before it)
	Rows          []hbar
}

type hbar struct {
	Y, H   int    // the bar's band
	TextY  int    // the baseline of its label and figure
	Label  string // before the bar
	W      int    // the bar's length
	BackW  int    // a lighter bar behind it (a target); 0: none
	Text   string // after the bar
	TextX  int
	Filled bool // W > 0
}

// hbars lays out bars of values (and optional backs, drawn lighter behind
// them) on one scale in a chart width units wide, labels at the left and
// texts after the longer bar.
func hbars(width int, labels []string, values, backs []float64, texts []string) hbarChart {
	const rowH, barH, gap, textW = 36, 24, 8, 210
	labelW := 0
	for _, l := range labels {
		labelW = max(labelW, utf8.RuneCountInString(l)*16+8)
	}
	labelW = min(max(labelW, 48), 220)
	top := 0.0
	for i, v := range values {
		top = math.Max(top, v)
		if backs != nil {
			top = math.Max(top, backs[i])
		}
	}
	c := hbarChart{Width: width, Height: len(values)*rowH + 8, BarX: labelW + gap}
	span := float64(width - c.BarX - textW)
	scale := func(v float64) int {
		if top <= 0 || v <= 0 {
			return 0
		}
		return max(2, int(math.Round(v/top*span)))
	}
	for i, v := range values {
		b := hbar{Y: 4 + i*rowH + (rowH-barH)/2, H: barH, TextY: 4 + i*rowH + rowH/2 + 6, Label: labels[i], W: scale(v), Text: texts[i]}
		if backs != nil {
			b.BackW = scale(backs[i])
		}
		b.Filled = b.W > 0
		b.TextX = c.BarX + max(b.W, b.BackW) + gap
		c.Rows = append(c.Rows, b)
	}
	return c
}

// lineChart is a server-rendered line chart of the county's average score
// per cycle; cycles without merchants break the line.
type lineChart struct {
	Width, Height int
	Left, Right   int // the plot's x range
	Lines         []string
	Points        []linePoint
	Grid          []chartGrid
	LabelY        int
}

type linePoint struct {
	X, Y   int
	Label  string // the month, under the axis
	Value  string // over the point; "" for a cycle without merchants
	Marked bool   // a point is drawn
}

// trendChart lays out the trend on a scale that fits its averages (in steps
// of 10 points, within the policy's score range).
func trendChart(trend []service.TrendPoint, pol *policy.Policy) lineChart {
	const w, h, left, right, top, bottom = 720, 260, 56, 32, 34, 40
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range trend {
		if t.Merchants > 0 {
			lo, hi = math.Min(lo, t.Average), math.Max(hi, t.Average)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = float64(pol.BaseScore), float64(pol.BaseScore)
	}
	low := max(pol.MinScore, int(math.Floor((lo-5)/10))*10)
	high := min(pol.MaxScore, int(math.Ceil((hi+5)/10))*10)
	if high-low < 20 {
		low = max(pol.MinScore, high-20)
	}
	c := lineChart{Width: w, Height: h, Left: left, Right: w - right, LabelY: h - 12}
	y := func(v float64) int {
		return top + int(math.Round((float64(high)-v)*float64(h-top-bottom)/float64(max(1, high-low))))
	}
	step := 10
	if high-low > 60 {
		step = 20
	}
	for v := high; v >= low; v -= step {
		c.Grid = append(c.Grid, chartGrid{Y: y(float64(v)), Value: v})
	}
	n := len(trend)
	var line []string
	for i, t := range trend {
		x := left + (w-left-right)/2
		if n > 1 {
			x = left + i*(w-left-right)/(n-1)
		}
		pt := linePoint{X: x, Label: fmt.Sprintf("%d月", int(t.Cycle.Month))}
		if t.Merchants > 0 {
			pt.Y, pt.Value, pt.Marked = y(t.Average), fmt.Sprintf("%.2f", t.Average), true
			line = append(line, fmt.Sprintf("%d,%d", pt.X, pt.Y))
		} else if len(line) > 0 {
			c.Lines = append(c.Lines, strings.Join(line, " "))
			line = nil
		}
		c.Points = append(c.Points, pt)
	}
	if len(line) > 0 {
		c.Lines = append(c.Lines, strings.Join(line, " "))
	}
	return c
}
