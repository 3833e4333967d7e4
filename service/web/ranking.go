package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/policy"
)

// rankPage is the number of shops on a page of a ranking.
const rankPage = 50

// pastCycles is how many past cycles the cycle pickers offer.
const pastCycles = 12

// cycleChoice is one month of a cycle picker.
type cycleChoice struct {
	Cycle    string
	Label    string
	Selected bool
}

// cycleChoices are the current cycle and the past ones, newest first, each
// marked live, provisional (in its grace period) or settled (closed: frozen
// results); selected is the chosen one ("" the current).
func (p *Pages) cycleChoices(selected string) []cycleChoice {
	pol, now := p.svc.Policy(), p.svc.Now()
	cur := pol.CycleOf(now)
	if selected == "" {
		selected = cur.String()
	}
	out := make([]cycleChoice, 0, pastCycles+1)
	for i := 0; i <= pastCycles; i++ {
		c := cur.Add(-i)
		label := monthName(c)
		switch {
		case i == 0:
			label += "（本月，实时）"
		case !pol.IsClosed(c, now):
			label += "（宽限期内，临时）"
		default:
			label += "（已结算）"
		}
		out = append(out, cycleChoice{Cycle: c.String(), Label: label, Selected: c.String() == selected})
	}
	// An older month asked by its address is offered too, so the picker names it.
	if c, err := policy.ParseCycle(selected); err == nil && c.Before(cur.Add(-pastCycles)) {
		out = append(out, cycleChoice{Cycle: c.String(), Label: monthName(c) + "（已结算）", Selected: true})
	}
	return out
}

// roadLine is a line of a road ranking.
type roadLine struct {
	leaderboard.RoadEntry
	Demonstration string
}

// cityRoadLine is a line of the city-wide road ranking.
type cityRoadLine struct {
	service.CityRoad
	Demonstration string
}

// pager links the pages of a list: the query of the page asked, with page=n.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

func newPager(r *http.Request, page, size, total int) pager {
	pg := pager{Page: page, Pages: max(1, (total+size-1)/size), Total: total}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		pg.Prev = link(page - 1)
	}
	if page < pg.Pages {
		pg.Next = link(page + 1)
	}
	return pg
}

// pageOf reads the page number of a list (1 when absent or bad).
func pageOf(q url.Values) int {
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 || n > 100_000 {
		return 1
	}
	return n
}

// queryID reads an optional id of the query; anything but a positive number is 0.
func queryID(q url.Values, name string) int64 {
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// officeCounty is the county a console page is about: a county admin's own;
// for the city admin the one it picked (?county_id=), 0 when none.
func (p *Pages) officeCounty(r *http.Request) (int64, []models.County, error) {
	a := actorOf(r)
	if !a.IsCity() {
		return a.CountyID, nil, nil
	}
	counties, err := p.svc.Counties(r.Context(), a)
	return queryID(r.URL.Query(), "county_id"), counties, err
}

// rankings shows the shop ranking of a scope (the county, a road of it, or
// for the city admin the city or a county) and the county's road ranking, of
// the current cycle (live) or a past one (its frozen results once closed).
func (p *Pages) rankings(w http.ResponseWriter, r *http.Request) {
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	countyID, counties, err := p.officeCounty(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cycle, roadID, page := q.Get("cycle"), queryID(q, "road"), pageOf(q)
	bq := service.BoardQuery{Scope: leaderboard.City, Cycle: cycle, Paging: service.Paging{Limit: rankPage, Offset: (page - 1) * rankPage}}
	switch {
	case roadID > 0:
		bq.Scope, bq.ID = leaderboard.Road, roadID
	case countyID > 0:
		bq.Scope, bq.ID = leaderboard.County, countyID
	}
	board, err := p.svc.MerchantBoard(ctx, a, bq)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Console": true, "Tab": "rankings", "Board": board, "Cycles": p.cycleChoices(board.Cycle), "Cycle": board.Cycle,
		"Live": board.Cycle == p.svc.CurrentCycle(), "City": a.IsCity(), "Counties": counties, "CountyID": countyID, "RoadID": roadID,
		"Pager": newPager(r, page, rankPage, board.Total)}
	if countyID > 0 {
		roads, err := p.countyRoads(ctx, a, countyID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		board, err := p.svc.RoadBoard(ctx, a, countyID, cycle)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		lines := make([]roadLine, len(board))
		for i, e := range board {
			lines[i] = roadLine{RoadEntry: e, Demonstration: demoStatusNames[e.DemoStatus]}
		}
		v["Roads"], v["RoadBoard"] = roads, lines
		for _, rd := range roads {
			if rd.ID == roadID {
				v["RoadName"] = rd.Name
			}
		}
		for _, c := range counties {
			if c.ID == countyID {
				v["CountyName"] = c.Name
			}
		}
	}
	if a.IsCity() && countyID == 0 && roadID == 0 {
		roads, err := p.svc.CityRoadBoard(ctx, a, cycle)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		lines := make([]cityRoadLine, len(roads))
		for i, rd := range roads {
			lines[i] = cityRoadLine{CityRoad: rd, Demonstration: demoStatusNames[rd.DemoStatus]}
		}
		v["CityRoads"] = lines
	}
	v["Settled"] = p.settled(board.Cycle)
	p.render(w, r, http.StatusOK, "console_rankings.html", v)
}

// settled tells whether a cycle is closed: its results are frozen and never change.
func (p *Pages) settled(cycle string) bool {
	c, err := policy.ParseCycle(cycle)
	return err == nil && p.svc.Policy().IsClosed(c, p.svc.Now())
}
