package httpapi_test

import (
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
)

// TestInspectionBeforeRegistration: an inspection dated before its shop was
// registered is refused on the inspected_at field, in the registration's own
// cycle as in an earlier one, and stores nothing; the policy's clock skew
// (an officer's phone a few minutes slow) is forgiven, and a record after
// the registration is taken.
func TestInspectionBeforeRegistration(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			e.clock.Set(at(2026, 11, 2, 10, 0, 0))
			e.relogin(&w)
			shop := e.newMerchant(w.Admin[0], w.Road[0], "新开张便利店") // registered 2 Nov 10:00, Shanghai
			body := func(when time.Time) map[string]any {
				b := inspection(shop, nil, item("BONUS-01"))
				b["inspected_at"] = when.Format(time.RFC3339)
				return b
			}
			for _, c := range []struct {
				name string
				when time.Time
			}{
				{"earlier the same month", at(2026, 11, 1, 9, 30, 0)},
				{"an hour before, the same day", at(2026, 11, 2, 9, 0, 0)},
				{"beyond the skew", at(2026, 11, 2, 9, 54, 59)},
				{"the month before, in its grace period", at(2026, 10, 31, 9, 0, 0)},
			} {
				t.Run(c.name, func(t *testing.T) {
					ce := *e
					ce.t = t
					before := dbtest.Dump(t, e.db)
					r := ce.inspect(w.Officer[0], "before-reg-"+c.when.Format("0102150405"), body(c.when))
					checkErrorEnvelope(t, r, 400, "invalid_input")
					if fields, _ := errPart(r, "fields").(map[string]any); fields["inspected_at"] == nil {
						t.Errorf("fields = %v, want inspected_at", fields)
					}
					if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
						t.Errorf("tables changed: %v", changed)
					}
				})
			}
			// Four minutes before: an officer's phone running slow.
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], body(at(2026, 11, 2, 9, 56, 0)), "Idempotency-Key", "skewed")
			e.clock.Set(at(2026, 11, 3, 8, 0, 0))
			e.relogin(&w)
			e.must(201, "POST", "/api/v1/inspections", w.Officer[0], body(at(2026, 11, 2, 16, 0, 0)), "Idempotency-Key", "after")
			e.checkClean()
		})
	}
}
