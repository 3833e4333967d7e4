package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// Credit repair (信用修复): the merchant's status and application form, and
// the county office's applications with their decision.

// repairStatusNames name an application's status in words.
var repairStatusNames = map[string]string{models.RepairPending: "待处理", models.RepairGranted: "同意修复", models.RepairRefused: "不予修复"}

// repairLine is an application as a page lists it.
type repairLine struct {
	models.RepairApplication
	StatusName string
	Overdue    bool
	Photos     []int64
	Shop       models.Merchant // on the console
}

func (p *Pages) repairLines(ctx context.Context, a service.Actor, apps []models.RepairApplication, shops bool) ([]repairLine, error) {
	now := p.svc.Now()
	out := make([]repairLine, len(apps))
	for i, app := range apps {
		out[i] = repairLine{RepairApplication: app, StatusName: repairStatusNames[app.Status], Photos: service.ParseIDs(app.PhotoIDs),
			Overdue: app.Status == models.RepairPending && now.After(app.DueAt)}
		if shops {
			m, err := p.svc.Merchant(ctx, a, app.MerchantID)
			if err != nil {
				return nil, err
			}
			out[i].Shop = m
		}
	}
	return out, nil
}

// merchantRepair is the merchant's repair page: why the star is capped, what
// repair needs, the form when it may apply, and its applications.
func (p *Pages) merchantRepair(w http.ResponseWriter, r *http.Request) {
	p.showMerchantRepair(w, r, http.StatusOK, nil)
}

func (p *Pages) showMerchantRepair(w http.ResponseWriter, r *http.Request, status int, problem error) {
	ctx, a := r.Context(), actorOf(r)
	st, err := p.svc.RepairStatusOf(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	apps, _, err := p.svc.RepairApplications(ctx, a, service.RepairFilter{Paging: service.Paging{Limit: 20}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	lines, err := p.repairLines(ctx, a, apps, false)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := view{"Tab": "repair", "S": st, "Apps": lines, "Applied": r.URL.Query().Get("applied") != "",
		"Reason": formValue(r, "reason"), "PledgeName": formValue(r, "pledge_name")}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "merchant_repair.html", v)
}

// applyRepair files the merchant's application with its photo; a refused
// one shows the page again with the problem and nothing stored.
func (p *Pages) applyRepair(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	in := service.RepairInput{Reason: formValue(r, "reason"), Pledge: formValue(r, "pledge") == "1", PledgeName: formValue(r, "pledge_name")}
	err := p.withPhotos(r, "photo", func(ctx context.Context, photos []int64) error {
		in.Photos = photos
		_, err := p.svc.ApplyRepair(ctx, a, a.MerchantID, in)
		return err
	})
	if err != nil {
		if _, ok := err.(*service.Error); !ok || service.ErrorCode(err) == service.CodeNotFound {
			p.fail(w, r, err)
			return
		}
		p.showMerchantRepair(w, r, service.HTTPStatus(service.ErrorCode(err)), err)
		return
	}
	http.Redirect(w, r, "/merchant/repair?applied=1", http.StatusSeeOther)
}

// consoleRepairs lists the county's repair applications: pending first by
// deadline (overdue in red), then the decided ones, newest first.
func (p *Pages) consoleRepairs(w http.ResponseWriter, r *http.Request) {
	p.showConsoleRepairs(w, r, http.StatusOK, 0, nil)
}

func (p *Pages) showConsoleRepairs(w http.ResponseWriter, r *http.Request, status int, failedID int64, problem error) {
	ctx, a := r.Context(), actorOf(r)
	apps, total, err := p.svc.RepairApplications(ctx, a, service.RepairFilter{CountyID: a.CountyID, Paging: service.Paging{Limit: service.MaxPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	lines, err := p.repairLines(ctx, a, apps, true)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pending, overdue := 0, 0
	for _, l := range lines {
		if l.Status == models.RepairPending {
			pending++
		}
		if l.Overdue {
			overdue++
		}
	}
	v := view{"Console": true, "Tab": "repairs", "Apps": lines, "Total": total, "Pending": pending, "Overdue": overdue,
		"Days": p.svc.Policy().RepairDecisionDays, "FailedID": failedID, "Note": formValue(r, "note")}
	if d := r.URL.Query().Get("decided"); d != "" {
		v["Decided"], v["Result"] = d, repairStatusNames[r.URL.Query().Get("result")]
	}
	if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	p.render(w, r, status, "console_repairs.html", v)
}

// decideRepair grants or refuses an application with a note; a refused
// decision shows the list again with the problem beside the application.
func (p *Pages) decideRepair(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var grant bool
	switch formValue(r, "decision") {
	case "grant":
		grant = true
	case "refuse":
	default:
		p.showConsoleRepairs(w, r, http.StatusBadRequest, id, service.Invalid(map[string]string{"decision": "请选择同意或不予修复"}))
		return
	}
	app, err := p.svc.DecideRepair(ctx, a, id, grant, formValue(r, "note"))
	if err != nil {
		if _, ok := err.(*service.Error); !ok || service.ErrorCode(err) == service.CodeNotFound || service.ErrorCode(err) == service.CodeForbidden {
			p.fail(w, r, err)
			return
		}
		p.showConsoleRepairs(w, r, service.HTTPStatus(service.ErrorCode(err)), id, err)
		return
	}
	http.Redirect(w, r, "/console/repairs?decided="+strconv.FormatInt(app.ID, 10)+"&result="+app.Status, http.StatusSeeOther)
}
