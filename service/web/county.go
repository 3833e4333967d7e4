package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// compareCounties is the city office's home: the counties ranked by
// demonstration roads qualified now, with their scores, patrols and overdue
// notices, as a table and a chart.
func (p *Pages) compareCounties(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	counties, err := p.svc.CompareCounties(ctx, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	labels := make([]string, len(counties))
	qualified := make([]float64, len(counties))
	targets := make([]float64, len(counties))
	texts := make([]string, len(counties))
	for i, c := range counties {
		labels[i], qualified[i], targets[i] = c.County.Name, float64(c.Qualified), float64(c.Target)
		texts[i] = fmt.Sprintf("%d/%d 条 · 均分 %.2f", c.Qualified, c.Target, c.Score)
	}
	p.render(w, r, http.StatusOK, "console.html", view{"Console": true, "Tab": "home", "Counties": counties,
		"Chart": hbars(720, labels, qualified, targets, texts), "Cycle": p.svc.CurrentCycle()})
}

// countyForm is the county form as filled in, with the service's problems.
type countyForm struct {
	ID                 int64
	Code, Name, Target string
	Message            string            // the problem as a whole
	Fields             map[string]string // field key → its problem, shown beside the field
	Created, Saved     string            // the county added or saved before a redirect here
}

// problem turns a refused save into the form's messages (badTarget: the
// target typed was no number, see countyInput); anything but a service
// refusal of the input is the page's error instead.
func (f *countyForm) problem(err error, badTarget bool) (int, bool) {
	e, ok := err.(*service.Error)
	if !ok || e.Code == service.CodeNotFound || e.Code == service.CodeForbidden {
		return 0, false
	}
	f.Message, f.Fields = e.Message, map[string]string{}
	for k, v := range e.Fields {
		f.Fields[k] = v
	}
	if e.Code == service.CodeDuplicate {
		f.Fields["code"] = e.Message
	}
	if badTarget {
		f.Fields["demo_road_target"] = badTargetText
	}
	return service.HTTPStatus(e.Code), true
}

// countyInput reads the form. A target that is not a whole number is sent
// as -1, so that the service refuses the whole input (and stores nothing)
// with its problems of every field; badTarget says so, to word it.
func countyInput(r *http.Request, f *countyForm) (in service.CountyInput, badTarget bool) {
	f.Code, f.Name, f.Target = strings.TrimSpace(formValue(r, "code")), formValue(r, "name"), strings.TrimSpace(formValue(r, "demo_road_target"))
	in.Name = &f.Name
	if f.Target != "" || f.ID != 0 {
		n, err := strconv.Atoi(f.Target)
		if err != nil {
			n, badTarget = -1, true
		}
		in.DemoRoadTarget = &n
	}
	return in, badTarget
}

const badTargetText = "请填写 0 到 1000 之间的整数"

// counties lists the counties with a form to add one (city admin).
func (p *Pages) counties(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := countyForm{Created: q.Get("created"), Saved: q.Get("saved")}
	p.showCounties(w, r, http.StatusOK, f)
}

func (p *Pages) showCounties(w http.ResponseWriter, r *http.Request, status int, f countyForm) {
	ctx, a := r.Context(), actorOf(r)
	list, err := p.svc.Counties(ctx, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Console": true, "Tab": "counties", "Counties": list, "F": f, "DefaultTarget": p.svc.Policy().Demonstration.Target}
	for _, c := range list {
		if id := strconv.FormatInt(c.ID, 10); id == f.Created || id == f.Saved {
			v["Flashed"] = c
		}
	}
	p.render(w, r, status, "console_counties.html", v)
}

// createCounty adds a county; refused input shows the form again, kept as
// typed, with the problems beside the fields.
func (p *Pages) createCounty(w http.ResponseWriter, r *http.Request) {
	f := countyForm{}
	in, badTarget := countyInput(r, &f)
	in.Code = &f.Code
	c, err := p.svc.CreateCounty(r.Context(), actorOf(r), in)
	if err != nil {
		status, ok := f.problem(err, badTarget)
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showCounties(w, r, status, f)
		return
	}
	http.Redirect(w, r, "/console/counties?created="+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}

// countyEdit shows a county's form (city admin).
func (p *Pages) countyEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	c, err := p.svc.County(r.Context(), actorOf(r), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showCounty(w, r, http.StatusOK, c, countyForm{ID: c.ID, Code: c.Code, Name: c.Name, Target: strconv.Itoa(c.DemoRoadTarget)})
}

func (p *Pages) showCounty(w http.ResponseWriter, r *http.Request, status int, c models.County, f countyForm) {
	p.render(w, r, status, "console_county.html", view{"Console": true, "Tab": "counties", "C": c, "F": f})
}

// updateCounty saves a county's name and demonstration-road target; its
// code never changes (the service refuses a changed one).
func (p *Pages) updateCounty(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	c, err := p.svc.County(ctx, a, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f := countyForm{ID: c.ID}
	in, badTarget := countyInput(r, &f)
	if f.Code != c.Code {
		in.Code = &f.Code
	}
	if _, err := p.svc.UpdateCounty(ctx, a, id, in); err != nil {
		status, ok := f.problem(err, badTarget)
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.showCounty(w, r, status, c, f)
		return
	}
	http.Redirect(w, r, "/console/counties?saved="+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
