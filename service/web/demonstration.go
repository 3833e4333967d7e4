package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// demoMove is an action on a road's demonstration status, as a button names it.
type demoMove struct {
	To     string
	Button string
	Danger bool
}

// demoMoves are the actions the console offers from each status: designate,
// the steps candidate → building → accepted, revocation (with a reason) and
// designating a revoked road again. (The service allows a few more, such as
// stepping back; the console keeps to the programme's forward path.)
var demoMoves = map[string][]demoMove{
	service.DemoNone:      {{service.DemoCandidate, "列为候选示范路", false}},
	service.DemoCandidate: {{service.DemoBuilding, "开始创建", false}, {service.DemoRevoked, "撤销", true}},
	service.DemoBuilding:  {{service.DemoAccepted, "验收通过", false}, {service.DemoRevoked, "撤销", true}},
	service.DemoAccepted:  {{service.DemoRevoked, "撤销", true}},
	service.DemoRevoked:   {{service.DemoCandidate, "重新列为候选", false}},
}

// demoRoad is a road of the programme with its metrics and failing criteria in words.
type demoRoad struct {
	service.RoadResultView
	Status     string   // in words
	RatedShare string   // the share of shops rated high enough, as a percentage
	Why        []string // the failing criteria in words
	Moves      []demoMove
}

// percentOf writes a share (0.6667) as a percentage with one decimal (66.7%).
func percentOf(share float64) string {
	return strconv.FormatFloat(math.Round(share*1000)/10, 'f', -1, 64) + "%"
}

// whyNotQualified says in words why a road does not qualify as a
// demonstration road (达标), criterion by criterion, with the service's
// metrics and the policy's thresholds: "有 3 家本月未巡查".
func whyNotQualified(d policy.Demonstration, r service.RoadResultView) []string {
	m := r.Metrics
	n := m.ActiveMerchants
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	var out []string
	for _, f := range r.Failing {
		switch f {
		case service.FailMerchants:
			out = append(out, fmt.Sprintf("在营商户 %d 家，不足 %d 家", n, d.MinMerchants))
		case service.FailInspected:
			if n == 0 {
				out = append(out, "没有在营商户")
			} else {
				out = append(out, fmt.Sprintf("有 %d 家本月未巡查", n-m.Inspected))
			}
		case service.FailAverage:
			if n > 0 {
				out = append(out, fmt.Sprintf("平均分 %s 低于 %s", num(m.AverageScore), num(d.MinAverageScore)))
			}
		case service.FailRated:
			if n > 0 {
				out = append(out, fmt.Sprintf("%d 星及以上 %d 家（%s），不足 %s", d.MinRatedStar, m.RatedHigh, percentOf(m.RatedHighShare), percentOf(d.MinRatedShare)))
			}
		case service.FailSerious:
			out = append(out, fmt.Sprintf("本月有 %d 项严重违规", m.SeriousItems))
		case service.FailOverdue:
			out = append(out, fmt.Sprintf("本月有 %d 份整改通知逾期", m.OverdueNotices))
		default:
			out = append(out, f)
		}
	}
	return out
}

// otherRoad is a road not (yet) in the programme.
type otherRoad struct {
	ID        int64
	Name      string
	Town      string
	Merchants int
	Score     float64
	Moves     []demoMove
}

// consoleDemonstration is the county's demonstration-road programme (示范路):
// target, designated, accepted and qualified now, each road with why it does
// not qualify, and the actions that move it.
func (p *Pages) consoleDemonstration(w http.ResponseWriter, r *http.Request) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	ctx, a := r.Context(), actorOf(r)
	d, err := p.svc.Demonstration(ctx, a, county.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pol := p.svc.Policy()
	in := map[int64]bool{}
	roads := make([]demoRoad, len(d.Roads))
	for i, rv := range d.Roads {
		roads[i] = demoRoad{RoadResultView: rv, Status: demoStatusNames[rv.DemoStatus], RatedShare: percentOf(rv.Metrics.RatedHighShare),
			Why: whyNotQualified(pol.Demonstration, rv), Moves: demoMoves[rv.DemoStatus]}
		in[rv.RoadID] = true
	}
	all, err := p.countyRoads(ctx, a, county.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	board, err := p.svc.RoadBoard(ctx, a, county.ID, "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var others []otherRoad
	for _, rv := range all {
		if in[rv.ID] {
			continue
		}
		o := otherRoad{ID: rv.ID, Name: rv.Name, Town: rv.Town, Moves: demoMoves[rv.DemoStatus]}
		for _, e := range board {
			if e.RoadID == rv.ID {
				o.Merchants, o.Score = e.Merchants, e.Score
			}
		}
		others = append(others, o)
	}
	done, _ := strconv.ParseInt(r.URL.Query().Get("done"), 10, 64)
	var doneRoad *demoRoad
	for i := range roads {
		if roads[i].RoadID == done {
			doneRoad = &roads[i]
		}
	}
	p.render(w, r, http.StatusOK, "console_demonstration.html", view{"Console": true, "Tab": "demonstration", "County": county,
		"D": d, "Roads": roads, "Others": others, "Rules": pol.Demonstration, "Done": doneRoad,
		"MinAverage": strconv.FormatFloat(pol.Demonstration.MinAverageScore, 'f', -1, 64), "MinShare": percentOf(pol.Demonstration.MinRatedShare)})
}

// demoMoveOf finds the console's move of a road from its status to to.
func demoMoveOf(from, to string) (demoMove, bool) {
	for _, m := range demoMoves[from] {
		if m.To == to {
			return m, true
		}
	}
	return demoMove{}, false
}

// setRoadDemonstration moves a road to another demonstration status after a
// confirmation step; revoking needs a reason. Nothing changes before the
// confirmed request.
func (p *Pages) setRoadDemonstration(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	road, err := p.pathRoad(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	id := road.ID
	to := formValue(r, "status")
	move, ok := demoMoveOf(road.DemoStatus, to)
	if !ok {
		if _, known := demoStatusNames[to]; !known {
			p.fail(w, r, service.Invalid(map[string]string{"status": "应为 candidate、building、accepted 或 revoked"}))
			return
		}
		p.fail(w, r, service.Errorf(service.CodeConflict, "道路“%s”目前为%s，不能改为%s，请刷新页面后重试",
			road.Name, demoStatusNames[road.DemoStatus], demoStatusNames[to]))
		return
	}
	back := "/console/demonstration?county_id=" + strconv.FormatInt(road.CountyID, 10)
	note := strings.TrimSpace(formValue(r, "note"))
	revoke := to == service.DemoRevoked
	if formValue(r, "confirm") != "1" || (revoke && note == "") {
		c := confirmStep{Tab: "demonstration", Title: move.Button + "：" + road.Name, Action: "/console/roads/" + strconv.FormatInt(id, 10) + "/demonstration",
			Hidden: map[string]string{"status": to}, Button: "确认" + move.Button, Danger: move.Danger, ReasonVal: note,
			Back:  back + "#road-" + strconv.FormatInt(id, 10),
			Lines: []string{"示范路状态将由“" + demoStatusNames[road.DemoStatus] + "”改为“" + demoStatusNames[to] + "”，操作人和时间将被记录。"}}
		if revoke {
			c.Reason = "撤销原因（必填，将记录在案）"
			c.Lines = append(c.Lines, "撤销后该路不再计入本区县的示范路，需要时可重新列为候选。")
		}
		if to == service.DemoAccepted || to == service.DemoBuilding {
			d, err := p.svc.Demonstration(ctx, a, road.CountyID)
			if err != nil {
				p.fail(w, r, err)
				return
			}
			for _, rv := range d.Roads {
				if rv.RoadID == id && !rv.Qualified {
					c.Lines = append(c.Lines, "注意：该路本月尚未达标（"+strings.Join(whyNotQualified(p.svc.Policy().Demonstration, rv), "；")+"）。")
				}
			}
		}
		status := http.StatusOK
		if formValue(r, "confirm") == "1" {
			c.Error, status = "请填写撤销原因", http.StatusBadRequest
		}
		p.confirm(w, r, status, c)
		return
	}
	if _, err := p.svc.SetDemonstration(ctx, a, id, to, note); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back+"&done="+strconv.FormatInt(id, 10)+"#road-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
