package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestPrivateAnswersAreNeverStored: whatever a token opens is personal, so
// no shared cache may keep it and no cache may serve it to another token or
// cookie (issue 16, defect 9). A kept answer (a.keep) replays the same headers.
func TestPrivateAnswersAreNeverStored(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			cycle := e.clock.Now().Format("2006-01")
			for _, c := range []struct{ path, token string }{
				{"/api/v1/me", w.Officer[0]},
				{"/api/v1/me", w.Shop[0]},
				{"/api/v1/users", w.Admin[0]},
				{fmt.Sprintf("/api/v1/merchants/%d", w.Merchant[0]), w.Shop[0]},
				{fmt.Sprintf("/api/v1/merchants/%d/ledger", w.Merchant[0]), w.Shop[0]},
				{fmt.Sprintf("/api/v1/merchants/%d/rank", w.Merchant[0]), w.Shop[0]},
				{fmt.Sprintf("/api/v1/merchants/%d/notices", w.Merchant[0]), w.Shop[0]},
				{fmt.Sprintf("/api/v1/counties/%d/bulletins/%s", w.County[0], cycle), w.Admin[0]},
				{"/api/v1/merchants?county_id=" + itoa(w.County[0]), w.Admin[0]},
			} {
				for round := range 2 { // the second may be a kept answer
					r := e.must(200, "GET", c.path, c.token, nil)
					if cc := r.Header.Get("Cache-Control"); cc != "private, no-store" {
						t.Errorf("GET %s (round %d): Cache-Control %q, want private, no-store", c.path, round, cc)
					}
					if v := r.Header.Get("Vary"); !strings.Contains(v, "Authorization") || !strings.Contains(v, "Cookie") {
						t.Errorf("GET %s (round %d): Vary %q, want Authorization and Cookie", c.path, round, v)
					}
				}
			}
		})
	}
}
