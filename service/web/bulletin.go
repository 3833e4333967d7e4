package web

import (
	"net/http"
	"strings"

	"github.com/menqian/menqian/service"
)

// reasonNames say why a merchant is on the black list (as the CSV export does).
var reasonNames = map[string]string{service.ReasonSerious: "严重违规", service.ReasonWatch: "重点监管（低于60分）", service.ReasonBottom: "排名末位"}

// failNames say which criterion a demonstration road fails.
var failNames = map[string]string{service.FailMerchants: "商户不足", service.FailInspected: "未全覆盖巡查",
	service.FailAverage: "平均分不足", service.FailRated: "四星以上比例不足", service.FailSerious: "有严重违规", service.FailOverdue: "有逾期整改"}

// bulletinBlack is a black-list line with its reasons in words.
type bulletinBlack struct {
	service.BulletinMerchant
	Why string
}

// bulletinRoad is a road line with its state and failing criteria in words.
type bulletinRoad struct {
	service.BulletinRoad
	Status, Failing string
}

// bulletins shows the 红黑榜 of the cycle the picker chose (?cycle=), the
// current one by default.
func (p *Pages) bulletins(w http.ResponseWriter, r *http.Request) {
	cycle := r.URL.Query().Get("cycle")
	if cycle == "" {
		cycle = p.svc.CurrentCycle()
	}
	p.showBulletin(w, r, cycle)
}

// bulletin shows the 红黑榜 of a cycle.
func (p *Pages) bulletin(w http.ResponseWriter, r *http.Request) {
	p.showBulletin(w, r, r.PathValue("cycle"))
}

// showBulletin renders a county's monthly 红黑榜 of cycle as a page fit to
// print (A4), with the CSV and XLSX downloads; the city admin picks the county.
func (p *Pages) showBulletin(w http.ResponseWriter, r *http.Request, cycle string) {
	ctx, a := r.Context(), actorOf(r)
	countyID, counties, err := p.officeCounty(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Console": true, "Tab": "bulletins", "City": a.IsCity(), "Counties": counties, "CountyID": countyID,
		"Cycles": p.cycleChoices(cycle), "Cycle": cycle}
	if countyID == 0 {
		p.render(w, r, http.StatusOK, "console_bulletin.html", v) // the city admin picks a county first
		return
	}
	b, err := p.svc.CountyBulletin(ctx, a, countyID, cycle)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	black := make([]bulletinBlack, len(b.Black))
	for i, m := range b.Black {
		why := make([]string, len(m.Reasons))
		for j, r := range m.Reasons {
			why[j] = reasonNames[r]
		}
		black[i] = bulletinBlack{BulletinMerchant: m, Why: strings.Join(why, "、")}
	}
	roads := make([]bulletinRoad, len(b.Roads))
	for i, rd := range b.Roads {
		fails := make([]string, len(rd.Failing))
		for j, f := range rd.Failing {
			fails[j] = failNames[f]
		}
		roads[i] = bulletinRoad{BulletinRoad: rd, Status: demoStatusNames[rd.Demonstration], Failing: strings.Join(fails, "、")}
	}
	v["B"], v["Black"], v["Roads"] = b, black, roads
	p.render(w, r, http.StatusOK, "console_bulletin.html", v)
}
