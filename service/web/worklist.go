package web

import (
	"net/http"

	"github.com/menqian/menqian/service"
)

// worklist is the officer's home: the county's roads (its own first) with the
// shops still to inspect this cycle, and the notices to re-inspect.
func (p *Pages) worklist(w http.ResponseWriter, r *http.Request) {
	wl, err := p.svc.OfficerWorklist(r.Context(), actorOf(r))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	left, mine := 0, 0
	for _, rw := range wl.Roads {
		left += rw.Uninspected
		if rw.Assigned {
			mine++
		}
	}
	now := p.svc.Now()
	soon := 0
	for _, n := range wl.Notices {
		if !n.Overdue && n.DueAt.Sub(now) <= service.NoticeDueSoon {
			soon++
		}
	}
	v := view{"Tab": "work", "W": wl, "Left": left, "Mine": mine, "DueSoon": soon, "SoonBefore": now.Add(service.NoticeDueSoon)}
	// The citizen reports dispatched to the officer, due first (county admins
	// who patrol work the county's cases in the console).
	if a := actorOf(r); a.Role == service.RoleOfficer {
		cases, total, err := p.svc.OfficerCases(r.Context(), a, service.Paging{Limit: service.MaxPage})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		overdue := 0
		for _, c := range cases {
			if c.Overdue {
				overdue++
			}
		}
		v["Cases"], v["CaseTotal"], v["CasesOverdue"] = cases, total, overdue
	}
	p.render(w, r, http.StatusOK, "officer_home.html", v)
}

// roadShops lists a road's active shops, those not inspected this cycle first.
func (p *Pages) roadShops(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	road, shops, err := p.svc.RoadShops(r.Context(), actorOf(r), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	left := 0
	for _, s := range shops {
		if !s.Inspected {
			left++
		}
	}
	p.render(w, r, http.StatusOK, "officer_road.html", view{"Tab": "work", "Road": road, "Shops": shops, "Left": left,
		"Cycle": p.svc.CurrentCycle()})
}
