package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/menqian/menqian/service"
)

// publicProfile is the public JSON of a plaque (the API contract of
// GET /q/{token} with Accept: application/json): what is on the shop front
// anyway, never the owner, phone, USCC, address, photos or ids.
type publicProfile struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Road      string `json:"road"`
	County    string `json:"county"`
	Category  string `json:"category"`
	Star      int    `json:"star"`
	RatedStar int    `json:"rated_star"`
	Score     int    `json:"score"`
	Cycle     string `json:"cycle"`
	// The deductions and bonuses of the last history_months months, newest
	// first; older ones have left the public page (never the officer).
	HistoryMonths int           `json:"history_months"`
	History       []publicEntry `json:"history"`
}

// publicEntry is one line of a plaque's public history.
type publicEntry struct {
	Date     string `json:"date"` // the day in Shanghai time, 2026-11-05
	RuleCode string `json:"rule_code"`
	Item     string `json:"item"`
	Points   int    `json:"points"` // signed
	State    string `json:"state"`  // recorded, reversed (已撤销) or under_appeal (申诉中)
}

// publicProfileOf is prof as the public JSON shows it.
func (p *Pages) publicProfileOf(prof service.PublicProfile) publicProfile {
	out := publicProfile{Code: prof.Code, Name: prof.Name, Road: prof.Road, County: prof.County, Category: prof.Category,
		Star: prof.Score.Star, RatedStar: prof.Score.RatedStar, Score: prof.Score.Score, Cycle: prof.Score.Cycle,
		History: []publicEntry{}}
	if h := prof.History; h != nil {
		out.HistoryMonths = h.Months
		loc := p.svc.Policy().Location()
		for _, e := range h.Entries {
			out.History = append(out.History, publicEntry{Date: e.At.In(loc).Format(time.DateOnly), RuleCode: e.RuleCode,
				Item: e.Item, Points: e.Points, State: e.State})
		}
	}
	return out
}

// plaque is the page a plaque's QR code opens: HTML for phones, the public
// JSON profile for Accept: application/json. A forged, unknown or closed
// plaque is 404; a replaced one is 404 too, and its page says so without
// naming the shop.
func (p *Pages) plaque(w http.ResponseWriter, r *http.Request) {
	// The page's 我要举报 link is "?report": relative, so the page (kept per
	// shop without its token, see plaqueCache) needs no token to point at
	// this plaque's report form.
	if r.URL.RawQuery != "" && r.URL.Query().Has("report") { // parsed only when there is a query: scans have none
		http.Redirect(w, r, "/q/"+url.PathEscape(r.PathValue("token"))+"/report", http.StatusSeeOther)
		return
	}
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	// The answer depends on Accept, and the page on who is signed in.
	w.Header().Set("Vary", "Accept, Cookie")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-cache")
	}
	prof, err := p.svc.ProfileByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		if wantJSON {
			e, ok := err.(*service.Error)
			if !ok {
				p.fail(w, r, err)
				return
			}
			writeJSON(w, service.HTTPStatus(e.Code), map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
			return
		}
		if service.ErrorCode(err) != service.CodeNotFound {
			p.fail(w, r, err)
			return
		}
		p.render(w, r, http.StatusNotFound, "plaque_gone.html", view{"Replaced": errors.Is(err, service.ErrPlaqueReplaced)})
		return
	}
	if wantJSON {
		p.plaqueJSON(w, r, prof)
		return
	}
	data := view{"P": prof, "Policy": p.svc.Policy()}
	// A visitor without a session (a WeChat scan) gets the page every such
	// visitor of the shop gets, so it is reused (see plaqueCache).
	if sessionOf(r) == nil {
		p.anonymousPlaque(w, r, prof, data)
		return
	}
	rules, err := p.plaqueCache().rules()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a := actorOf(r)
	data["Rules"] = rules
	data["Token"] = r.PathValue("token")
	data["CanInspect"] = a.InCounty(prof.CountyID) && (a.Role == service.RoleOfficer || a.Role == service.RoleCountyAdmin)
	p.render(w, r, http.StatusOK, "plaque.html", data)
}
