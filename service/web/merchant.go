package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// entryLine is a ledger entry as the merchant reads it.
type entryLine struct {
	service.LedgerView
	Deduction      bool
	CanAppeal      bool
	AppealDeadline time.Time
}

// entryLines orders a cycle's entries newest first and marks which the
// merchant may still appeal (the service decides again when it is filed).
func (p *Pages) entryLines(vs []service.LedgerView) []entryLine {
	now := p.svc.Now()
	out := make([]entryLine, len(vs))
	for i, v := range vs {
		l := entryLine{LedgerView: v, Deduction: v.Kind == models.KindDeduction}
		if l.Deduction && v.ReversedBy == nil && v.Appeal == nil {
			l.AppealDeadline = p.svc.AppealDeadline(v.LedgerEntry)
			l.CanAppeal = now.Before(l.AppealDeadline)
		}
		out[i] = l
	}
	slices.Reverse(out)
	return out
}

// merchantHome is the 商户端 home: the rated star, this month's score and
// entries, ranks, and how to get the star back.
func (p *Pages) merchantHome(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f, err := p.svc.MerchantFileOf(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	outlook, res, err := p.svc.MerchantOutlook(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	entries, _, err := p.svc.Ledger(ctx, a, a.MerchantID, "")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	rank, err := p.svc.MerchantRanks(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pol := p.svc.Policy()
	v := view{"Tab": "home", "F": f, "R": res, "O": outlook, "Rank": rank, "Entries": p.entryLines(entries),
		"Review": pol.CycleStart(outlook.Review), "BonusCap": pol.BonusCap, "Closed": f.Status != "active"}
	if outlook.NextStar > 0 {
		v["NextThreshold"] = pol.StarThresholds[len(pol.StarThresholds)-outlook.NextStar]
	}
	p.render(w, r, http.StatusOK, "merchant_home.html", v)
}
