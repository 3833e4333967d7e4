package web

import (
	"net/http"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// policyGroup is one 包 of the catalogue (or the bonuses) with its items.
type policyGroup struct {
	Category string
	Bonus    bool
	Items    []policy.Item
}

// starBand is the score range of one star.
type starBand struct {
	Star     int
	Min, Max int // Max < 0: no upper bound below the top score
}

// policyPage shows the catalogue and the scoring policy in force as a
// readable page (city admin): what each item costs, the thresholds, and
// whether they come from a policy file or the built-in default.
func (p *Pages) policyPage(w http.ResponseWriter, r *http.Request) {
	pol := p.svc.Policy()
	var groups []policyGroup
	for _, cat := range pol.Categories() {
		g := policyGroup{Category: cat}
		for _, it := range pol.Items {
			if it.Category == cat {
				g.Items = append(g.Items, it)
				g.Bonus = g.Bonus || it.Kind == policy.Bonus
			}
		}
		groups = append(groups, g)
	}
	var bands []starBand
	top := pol.MaxScore
	for i, min := range pol.StarThresholds {
		bands = append(bands, starBand{Star: len(pol.StarThresholds) - i, Min: min, Max: top})
		top = min - 1
	}
	bands = append(bands, starBand{Star: 0, Min: pol.MinScore, Max: top})
	p.render(w, r, http.StatusOK, "console_policy.html", view{"Console": true, "Tab": "policy", "P": pol, "Groups": groups,
		"Bands": bands, "File": p.policyFile, "AppealDays": int(service.AppealWindow.Hours() / 24),
		"DecisionDays": int(service.AppealDecisionWindow.Hours() / 24), "NoticeDays": service.NoticeDefaultDays,
		"NoticeMaxDays": service.NoticeMaxDays, "SkewMinutes": int(pol.FutureSkew.Minutes())})
}
