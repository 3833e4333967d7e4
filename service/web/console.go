package web

import (
	"net/http"

	"github.com/menqian/menqian/service"
)

// console is the offices' start page: for a county admin its county's
// ten-road programme and the printable plaques, for the city admin the
// counties compared. (The full console is issue 12.)
func (p *Pages) console(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	v := view{"Tab": "home", "Console": true}
	if a.IsCity() {
		board, err := p.svc.CountyBoard(ctx, a)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		v["Counties"] = board
	} else {
		d, err := p.svc.Demonstration(ctx, a, a.CountyID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		v["Demo"] = d
	}
	v["City"] = a.IsCity()
	v["Role"] = map[string]string{service.RoleCityAdmin: "市级管理员", service.RoleCountyAdmin: "区县管理员"}[a.Role]
	p.render(w, r, http.StatusOK, "console.html", v)
}
