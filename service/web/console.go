package web

import (
	"net/http"
)

// console is the offices' start page: the city admin's counties compared
// (or, with ?county_id=, one county's dashboard), a county admin's dashboard.
func (p *Pages) console(w http.ResponseWriter, r *http.Request) {
	if actorOf(r).IsCity() && r.URL.Query().Get("county_id") == "" {
		p.compareCounties(w, r)
		return
	}
	p.countyDashboard(w, r)
}
