package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// historyLine is one entry of the plaque's public history as its JSON gives it.
type historyLine struct{ date, rule, state string }

// plaqueHistory scans token as a program does and returns its history.
func (e *env) plaqueHistory(token string) []historyLine {
	e.t.Helper()
	p, j := e.scanJSON(token)
	if p.Status != http.StatusOK {
		e.t.Fatalf("JSON profile: %d %s", p.Status, p.Body)
	}
	items, ok := j["history"].([]any)
	if !ok {
		e.t.Fatalf("profile without a history list: %s", p.Body)
	}
	var out []historyLine
	for _, it := range items {
		m := it.(map[string]any)
		out = append(out, historyLine{m["date"].(string), m["rule_code"].(string), m["state"].(string)})
	}
	return out
}

// TestPlaqueHistoryExpires: the plaque page (HTML and JSON) shows the shop's
// deductions and bonuses of the last three months with their day, item,
// points and state (已撤销, 申诉中), never the officer; each leaves the page
// at the start of its day three months on, by the clock alone (no write in
// between, both the kept profile and the kept page read just before), and
// stays on the merchant's own ledger page.
func TestPlaqueHistoryExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sh := policy.Default().Location()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d) // 2026-11-15 10:00 Shanghai
			w := e.seed()
			shop, officer := w.Merchant[0], w.Officer[0]
			tok := e.scanToken(shop)
			appealed := e.record(officer, shop, "HJWS-02", 3)
			if _, err := e.svc.FileAppeal(ctx, w.Shop[0], shop, appealed, "当时是路人乱丢"); err != nil {
				t.Fatal(err)
			}
			reversed := e.record(officer, shop, "SRZJ-01", 2)
			if _, _, err := e.svc.ReverseEntry(ctx, w.Admin[0], shop, reversed, "照片不是本店门前"); err != nil {
				t.Fatal(err)
			}
			e.record(officer, shop, "BONUS-01", 2)
			// A month later, one more deduction, which stays a month longer.
			e.clock.Set(time.Date(2026, 12, 20, 9, 0, 0, 0, sh))
			e.record(officer, shop, "ZXLH-02", 3)

			private := []string{"王巡查", w.OfficerName[0], "当时是路人乱丢", "照片不是本店门前"}
			check := func(when string, want []historyLine) {
				t.Helper()
				if got := e.plaqueHistory(tok); strings.Join(lines(got), ";") != strings.Join(lines(want), ";") {
					t.Errorf("%s: JSON history %v, want %v", when, got, want)
				}
				js, _ := e.scanJSON(tok)
				page := e.scanGet(nil, "/q/"+tok)
				for _, p := range private {
					if strings.Contains(page.Body, p) || strings.Contains(js.Body, p) {
						t.Errorf("%s: the plaque shows %q", when, p)
					}
				}
				section := between(page.Body, `id="history"`, "</section>")
				if section == "" {
					t.Fatalf("%s: the page has no history section", when)
				}
				if n := strings.Count(section, `<li class="entry">`); n != len(want) {
					t.Errorf("%s: the page lists %d entries, want %d: %s", when, n, len(want), section)
				}
				for _, l := range want {
					day, _ := time.ParseInLocation(time.DateOnly, l.date, sh)
					if !strings.Contains(section, day.Format("2006年1月2日")) {
						t.Errorf("%s: the page lacks the day %s", when, day.Format("2006年1月2日"))
					}
					if it, _ := policy.Default().Item(l.rule); !strings.Contains(section, it.Name) {
						t.Errorf("%s: the page lacks the item %s", when, it.Name)
					}
				}
				for state, label := range map[string]string{service.EntryReversed: "已撤销", service.EntryUnderAppeal: "申诉中"} {
					listed := false
					for _, l := range want {
						listed = listed || l.state == state
					}
					if shown := strings.Contains(section, label); shown != listed {
						t.Errorf("%s: the page shows %s: %v, want %v", when, label, shown, listed)
					}
				}
			}
			november := []historyLine{
				{"2026-11-15", "BONUS-01", service.EntryRecorded},
				{"2026-11-15", "SRZJ-01", service.EntryReversed},
				{"2026-11-15", "HJWS-02", service.EntryUnderAppeal},
			}
			december := historyLine{"2026-12-20", "ZXLH-02", service.EntryRecorded}
			check("in December", append([]historyLine{december}, november...))
			if page := e.scanGet(nil, "/q/"+tok); !strings.Contains(between(page.Body, `id="history"`, "</section>"), "−2 分") {
				t.Errorf("the page does not write the reversed deduction's points: %s", between(page.Body, `id="history"`, "</section>"))
			}

			// The last instant of 14 February: November's entries still show
			// (and the profile and page are kept from this read) ...
			e.clock.Set(time.Date(2027, 2, 15, 0, 0, 0, 0, sh).Add(-time.Millisecond))
			check("on 14 February", append([]historyLine{december}, november...))
			// ... and at midnight they are gone, with nothing written.
			e.clock.Set(time.Date(2027, 2, 15, 0, 0, 0, 0, sh))
			check("on 15 February", []historyLine{december})
			e.clock.Set(time.Date(2027, 3, 19, 23, 59, 0, 0, sh))
			check("on 19 March", []historyLine{december})
			e.clock.Set(time.Date(2027, 3, 20, 0, 0, 0, 0, sh))
			check("on 20 March", nil)
			if page := e.scanGet(nil, "/q/"+tok); !strings.Contains(page.Body, "近 3 个月没有扣分或加分记录") {
				t.Errorf("an empty history does not say so: %s", between(page.Body, `id="history"`, "</section>"))
			}

			// The merchant still reads every entry on its own ledger.
			b := e.signedIn(w.ShopName[0])
			ledger := b.get("/merchant/ledger?cycle=2026-11")
			for _, rule := range []string{"HJWS-02", "SRZJ-01", "BONUS-01"} {
				if it, _ := policy.Default().Item(rule); ledger.Status != http.StatusOK || !strings.Contains(ledger.Body, it.Name) {
					t.Errorf("the merchant's November ledger lacks %s (%d)", it.Name, ledger.Status)
				}
			}
		})
	}
}

// TestPlaqueHistoryMonthsPolicy: the number of months is the policy's, and
// with 0 the page shows no history at all.
func TestPlaqueHistoryMonthsPolicy(t *testing.T) {
	t.Parallel()
	for _, months := range []int{1, 0} {
		p := policy.Default()
		p.PublicHistoryMonths = months
		e := newEnv(t, dbtest.Dialects(t)[0], func(o *service.Options) { o.Policy = p })
		w := e.seed()
		tok := e.scanToken(w.Merchant[0])
		e.record(w.Officer[0], w.Merchant[0], "HJWS-01", 2) // 2026-11-15
		e.clock.Set(time.Date(2026, 12, 14, 12, 0, 0, 0, p.Location()))
		want := map[int]int{1: 1, 0: 0}[months]
		if got := len(e.plaqueHistory(tok)); got != want {
			t.Errorf("%d months, on 14 December: %d entries, want %d", months, got, want)
		}
		page := e.scanGet(nil, "/q/"+tok)
		if strings.Contains(page.Body, `id="history"`) != (months > 0) {
			t.Errorf("%d months: the page has a history section: %v", months, months == 0)
		}
		e.clock.Set(time.Date(2026, 12, 15, 0, 0, 0, 0, p.Location()))
		if got := len(e.plaqueHistory(tok)); got != 0 {
			t.Errorf("%d months, on 15 December: %d entries, want none", months, got)
		}
	}
}

func lines(ls []historyLine) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.date + " " + l.rule + " " + l.state
	}
	return out
}
