package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
)

// consoleCounty is the county a console list is about: the county admin's
// own (asking for another is 403), or the city admin's ?county_id=. ok is
// false when the answer was written: an error, or the city admin's choice of
// county when none was named.
func (p *Pages) consoleCounty(w http.ResponseWriter, r *http.Request) (county models.County, ok bool) {
	ctx, a := r.Context(), actorOf(r)
	id := a.CountyID
	if s := r.URL.Query().Get("county_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			p.fail(w, r, service.Errorf(service.CodeNotFound, "区县不存在"))
			return county, false
		}
		if !a.InCounty(n) {
			p.fail(w, r, service.Errorf(service.CodeForbidden, "无权查看其他区县"))
			return county, false
		}
		id = n
	}
	if id == 0 { // the city admin, without a county: choose one
		cs, err := p.svc.Counties(ctx, a)
		if err != nil {
			p.fail(w, r, err)
			return county, false
		}
		p.render(w, r, http.StatusOK, "console_pick_county.html", view{"Console": true, "Tab": "counties", "Counties": cs, "Path": r.URL.Path})
		return county, false
	}
	county, err := p.svc.County(ctx, a, id)
	if err != nil {
		p.fail(w, r, err)
		return county, false
	}
	return county, true
}

// formErrs is a refused form's problems: the summary, and each field's
// problem under its form key, shown beside the field.
type formErrs struct {
	Problem problem           // the message and every problem with Chinese labels
	Fields  map[string]string // form key → problem
}

// formErrsOf turns a service error into a form's problems and the status to
// answer with; ok is false for errors a form cannot show (not found, no
// right, internal), which go to p.fail. A duplicate is the problem of dupField.
func formErrsOf(err error, dupField string) (fe formErrs, status int, ok bool) {
	e, isSvc := err.(*service.Error)
	if !isSvc {
		return fe, 0, false
	}
	fe.Fields = map[string]string{}
	switch e.Code {
	case service.CodeInvalid:
		for k, v := range e.Fields {
			fe.Fields[k] = v
		}
	case service.CodeDuplicate:
		fe.Fields[dupField] = e.Message
		e = &service.Error{Code: e.Code, Message: "输入有误", Fields: map[string]string{dupField: e.Message}}
	case service.CodeConflict:
	default:
		return fe, 0, false
	}
	fe.Problem = problemOf(e)
	return fe, service.HTTPStatus(e.Code), true
}

// noErrs is the problems of a form shown for the first time.
func noErrs() formErrs { return formErrs{Fields: map[string]string{}} }

// formInt reads an optional whole number; empty is nil, and text that is no
// number becomes bad, a value the service refuses with its own message.
func formInt(r *http.Request, name string, bad int) *int {
	s := strings.TrimSpace(formValue(r, name))
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		n = bad
	}
	return &n
}

// formFloat is formInt for decimals.
func formFloat(r *http.Request, name string, bad float64) *float64 {
	s := strings.TrimSpace(formValue(r, name))
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f = bad
	}
	return &f
}

// formText reads a text field as the service takes it (nil never: a form
// always sends its fields).
func formText(r *http.Request, name string) *string {
	s := formValue(r, name)
	return &s
}

// countyRoads lists all roads of a county, by id.
func (p *Pages) countyRoads(ctx context.Context, a service.Actor, countyID int64) ([]service.RoadView, error) {
	return p.svc.CountyRoads(ctx, a, countyID)
}

// countyOfficers lists the county's officer accounts, by id.
func (p *Pages) countyOfficers(ctx context.Context, a service.Actor, countyID int64) ([]models.User, error) {
	var out []models.User
	for off := 0; ; off += service.MaxPage {
		us, total, err := p.svc.Users(ctx, a, service.UserQuery{CountyID: countyID, Role: service.RoleOfficer,
			Paging: service.Paging{Limit: service.MaxPage, Offset: off}})
		if err != nil {
			return nil, err
		}
		out = append(out, us...)
		if len(us) == 0 || int64(len(out)) >= total {
			return out, nil
		}
	}
}

// officerName is how an officer is named on the console.
func officerName(u models.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// roadRow is a road as the console lists it.
type roadRow struct {
	service.RoadView
	Demo      string // the demonstration status in words
	Rank      int
	Score     float64
	Merchants int // active
	Officers  []string
}

// roadRows joins a county's roads with the road ranking and the names of
// their officers, in ranking order.
func (p *Pages) roadRows(ctx context.Context, a service.Actor, countyID int64) ([]roadRow, []models.User, error) {
	roads, err := p.countyRoads(ctx, a, countyID)
	if err != nil {
		return nil, nil, err
	}
	board, err := p.svc.RoadBoard(ctx, a, countyID, "")
	if err != nil {
		return nil, nil, err
	}
	officers, err := p.countyOfficers(ctx, a, countyID)
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	for _, u := range officers {
		names[u.ID] = officerName(u)
	}
	ranked := map[int64]leaderboard.RoadEntry{}
	order := map[int64]int{}
	for i, e := range board {
		ranked[e.RoadID], order[e.RoadID] = e, i
	}
	out := make([]roadRow, len(roads))
	for i, rv := range roads {
		e := ranked[rv.ID]
		l := roadRow{RoadView: rv, Demo: demoStatusNames[rv.DemoStatus], Rank: e.Rank, Score: e.Score, Merchants: e.Merchants}
		for _, id := range rv.OfficerIDs {
			l.Officers = append(l.Officers, names[id])
		}
		out[i] = l
	}
	slices.SortStableFunc(out, func(x, y roadRow) int {
		ox, okx := order[x.ID]
		oy, oky := order[y.ID]
		switch {
		case okx && oky:
			return ox - oy
		case okx:
			return -1
		case oky:
			return 1
		}
		return int(x.ID - y.ID)
	})
	return out, officers, nil
}

// consoleRoads lists the county's roads with their rank, score, shops and
// officers, searched by name, with the form to add a road.
func (p *Pages) consoleRoads(w http.ResponseWriter, r *http.Request) {
	p.showRoads(w, r, http.StatusOK, url.Values{}, noErrs())
}

func (p *Pages) showRoads(w http.ResponseWriter, r *http.Request, status int, form url.Values, errs formErrs) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	ctx, a := r.Context(), actorOf(r)
	lines, _, err := p.roadRows(ctx, a, county.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	all := len(lines)
	if q != "" {
		lines = slices.DeleteFunc(lines, func(l roadRow) bool { return !strings.Contains(l.Name, q) })
	}
	p.render(w, r, status, "console_roads.html", view{"Console": true, "Tab": "roads", "County": county, "Roads": lines,
		"All": all, "Q": q, "Form": form, "Errs": errs, "Cycle": p.svc.CurrentCycle()})
}

// createRoad adds a road to the county; a refused road shows the list again
// with the problems beside the fields and nothing stored.
func (p *Pages) createRoad(w http.ResponseWriter, r *http.Request) {
	county, ok := p.consoleCounty(w, r)
	if !ok {
		return
	}
	in := service.RoadInput{CountyID: &county.ID, Name: formText(r, "name"), Town: formText(r, "town"),
		LengthM: formInt(r, "length_m", -1)}
	rv, err := p.svc.CreateRoad(r.Context(), actorOf(r), in)
	if err != nil {
		errs, status, ok := formErrsOf(err, "name")
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showRoads(w, r, status, url.Values{"name": {formValue(r, "name")}, "town": {formValue(r, "town")},
			"length_m": {formValue(r, "length_m")}}, errs)
		return
	}
	http.Redirect(w, r, "/console/roads/"+strconv.FormatInt(rv.ID, 10)+"?created=1", http.StatusSeeOther)
}

// demoStatusNames are the demonstration statuses in words, as the service names them.
var demoStatusNames = service.DemoStatusNames()

// officerBox is one checkbox of the road's responsible officers.
type officerBox struct {
	ID      int64
	Name    string
	Checked bool
}

// consoleRoad is a road's file: its data and edit form, its responsible
// officers (定人定责), its shops, plaques and demonstration status.
func (p *Pages) consoleRoad(w http.ResponseWriter, r *http.Request) {
	p.showRoad(w, r, http.StatusOK, nil, noErrs(), noErrs())
}

// pathRoad reads the road of the path, as the actor may see it.
func (p *Pages) pathRoad(r *http.Request) (service.RoadView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return service.RoadView{}, err
	}
	return p.svc.Road(r.Context(), actorOf(r), id)
}

func (p *Pages) showRoad(w http.ResponseWriter, r *http.Request, status int, form url.Values, errs, officerErrs formErrs) {
	ctx, a := r.Context(), actorOf(r)
	road, err := p.pathRoad(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	county, err := p.svc.County(ctx, a, road.CountyID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	lines, officers, err := p.roadRows(ctx, a, road.CountyID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var line roadRow
	for _, l := range lines {
		if l.ID == road.ID {
			line = l
		}
	}
	shops, total, err := p.shopPage(ctx, a, service.MerchantFilter{CountyID: road.CountyID, RoadID: road.ID,
		Sort: service.MerchantSortName, Paging: service.Paging{Limit: service.MaxPage}}, []service.RoadView{road})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	boxes := make([]officerBox, len(officers))
	for i, u := range officers {
		boxes[i] = officerBox{ID: u.ID, Name: officerName(u), Checked: slices.Contains(road.OfficerIDs, u.ID)}
	}
	if form == nil {
		form = url.Values{"name": {road.Name}, "town": {road.Town}}
		if road.LengthM != nil {
			form.Set("length_m", strconv.Itoa(*road.LengthM))
		}
	}
	q := r.URL.Query()
	p.render(w, r, status, "console_road.html", view{"Console": true, "Tab": "roads", "County": county, "Road": line,
		"Demo": demoStatusNames[road.DemoStatus], "Shops": shops, "ShopTotal": total, "Officers": boxes,
		"Form": form, "Errs": errs, "OfficerErrs": officerErrs,
		"Created": q.Get("created") != "", "Saved": q.Get("saved") != "", "OfficersSaved": q.Get("officers") != ""})
}

// updateRoad changes a road's name, town and length; empty length leaves it as it is.
func (p *Pages) updateRoad(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in := service.RoadInput{Name: formText(r, "name"), Town: formText(r, "town"), LengthM: formInt(r, "length_m", -1)}
	if _, err := p.svc.UpdateRoad(r.Context(), actorOf(r), id, in); err != nil {
		errs, status, ok := formErrsOf(err, "name")
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showRoad(w, r, status, url.Values{"name": {formValue(r, "name")}, "town": {formValue(r, "town")},
			"length_m": {formValue(r, "length_m")}}, errs, noErrs())
		return
	}
	http.Redirect(w, r, "/console/roads/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
}

// setRoadOfficers stores the road's responsible officers: the ticked boxes.
func (p *Pages) setRoadOfficers(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	formValue(r, csrfField) // parses the form
	ids := []int64{}
	for _, s := range r.PostForm["officer_id"] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			n = -1 // no account: the service refuses it
		}
		ids = append(ids, n)
	}
	if _, err := p.svc.UpdateRoad(r.Context(), actorOf(r), id, service.RoadInput{OfficerIDs: &ids}); err != nil {
		errs, status, ok := formErrsOf(err, "officer_ids")
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showRoad(w, r, status, nil, noErrs(), errs)
		return
	}
	http.Redirect(w, r, "/console/roads/"+strconv.FormatInt(id, 10)+"?officers=1#officers", http.StatusSeeOther)
}
