package httpapi_test

import (
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestNewUserPath is the README walk-through: log in as admin, create a county,
// a road, an officer and a merchant, and read them back, on every dialect.
func TestNewUserPath(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			got := e.must(200, "GET", "/api/v1/merchants/"+itoa(w.Merchant[0]), w.Officer[0], nil)
			if got.JSON["name"] != "张记烧烤张店区" {
				t.Errorf("name = %v", got.JSON["name"])
			}
			score := got.JSON["score"].(map[string]any)
			if score["score"].(float64) != 100 || score["cycle"] != "2026-11" {
				t.Errorf("score = %v", score)
			}
			if code, _ := got.JSON["code"].(string); len(code) != 8 {
				t.Errorf("code = %q", code)
			}
			list := e.must(200, "GET", "/api/v1/merchants?q=烧烤", w.Officer[0], nil)
			if list.JSON["total"].(float64) != 1 {
				t.Errorf("officer of 张店区 sees %v merchants, want 1", list.JSON["total"])
			}
			e.must(200, "GET", "/api/v1/roads/"+itoa(w.Road[0]), w.Admin[0], nil)
			e.must(200, "GET", "/api/v1/counties/"+itoa(w.County[0]), w.Officer[0], nil)
			me := e.must(200, "GET", "/api/v1/me", w.Officer[0], nil)
			if me.JSON["role"] != "officer" {
				t.Errorf("me.role = %v", me.JSON["role"])
			}
		})
	}
}
