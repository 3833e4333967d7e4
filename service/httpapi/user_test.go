package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestUserManagement: county admins list and manage the officers and merchant
// accounts of their county; a disabled account's token stops working at once.
func TestUserManagement(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			list := e.must(200, "GET", "/api/v1/users", w.Admin[0], nil)
			if list.JSON["total"].(float64) != 3 { // the county admin, its officer and its merchant account
				t.Errorf("county admin sees %v users, want 3: %s", list.JSON["total"], list.Body)
			}
			for _, it := range list.JSON["items"].([]any) {
				if u := it.(map[string]any); u["county_id"].(float64) != float64(w.County[0]) {
					t.Errorf("county admin sees a user of another county: %v", u)
				}
			}
			if officers := e.must(200, "GET", "/api/v1/users?role=officer", e.admin, nil); officers.JSON["total"].(float64) != 2 {
				t.Errorf("city admin sees %v officers, want 2", officers.JSON["total"])
			}
			e.must(403, "GET", "/api/v1/users", w.Officer[0], nil)
			e.must(403, "GET", fmt.Sprintf("/api/v1/users?county_id=%d", w.County[1]), w.Admin[0], nil)
			e.must(400, "GET", "/api/v1/users?role=boss", w.Admin[0], nil)

			officer := fmt.Sprintf("/api/v1/users/%d", w.OfficerID[0])
			me := e.must(200, "GET", "/api/v1/me", w.Admin[0], nil).id()
			e.must(404, "PATCH", fmt.Sprintf("/api/v1/users/%d", w.OfficerID[1]), w.Admin[0], map[string]any{"disabled": true})
			e.must(404, "PATCH", fmt.Sprintf("/api/v1/users/%d", me), w.Admin[1], map[string]any{"disabled": true})
			e.must(403, "PATCH", officer, w.Officer[0], map[string]any{"display_name": "x"})
			e.must(400, "PATCH", fmt.Sprintf("/api/v1/users/%d", 1), e.admin, map[string]any{"disabled": true}) // not oneself
			e.must(400, "PATCH", officer, w.Admin[0], map[string]any{"password": "short"})

			// Disabling stops the officer's token at once; enabling lets the
			// officer log in again but does not revive the old token.
			e.must(200, "GET", "/api/v1/me", w.Officer[0], nil)
			off := e.must(200, "PATCH", officer, w.Admin[0], map[string]any{"disabled": true})
			if off.JSON["disabled"] != true {
				t.Errorf("PATCH answer: %s", off.Body)
			}
			e.must(401, "GET", "/api/v1/me", w.Officer[0], nil)
			e.must(401, "POST", "/api/v1/inspections", w.Officer[0], inspection(w.Merchant[0], nil, map[string]any{"rule_code": "BONUS-01"}),
				"Idempotency-Key", "disabled-1")
			e.must(401, "POST", "/api/v1/auth/login", "", map[string]any{"username": "officer370303", "password": "password-370303"})
			e.must(200, "PATCH", officer, w.Admin[0], map[string]any{"disabled": false})
			e.must(401, "GET", "/api/v1/me", w.Officer[0], nil)
			e.must(200, "GET", "/api/v1/me", e.login("officer370303", "password-370303"), nil)

			// A password reset: the new one logs in, the old one no longer
			// does, and tokens issued under the old one stop working at once.
			e.must(200, "PATCH", officer, w.Admin[0], map[string]any{"password": "new-password-1", "display_name": "王巡查员"})
			e.must(401, "POST", "/api/v1/auth/login", "", map[string]any{"username": "officer370303", "password": "password-370303"})
			if old := e.must(401, "GET", "/api/v1/me", w.Officer[0], nil); !strings.Contains(string(old.Body), "密码已重置") {
				t.Errorf("old token after the reset: %s", old.Body)
			}
			tok := e.login("officer370303", "new-password-1")
			if got := e.must(200, "GET", "/api/v1/me", tok, nil).JSON["display_name"]; got != "王巡查员" {
				t.Errorf("display_name = %v", got)
			}
			// Renaming or re-enabling does not end sessions; a second reset ends the new one.
			e.must(200, "PATCH", officer, w.Admin[0], map[string]any{"display_name": "王队长"})
			e.must(200, "GET", "/api/v1/me", tok, nil)
			e.must(200, "PATCH", officer, w.Admin[0], map[string]any{"password": "new-password-2"})
			e.must(401, "GET", "/api/v1/me", tok, nil)
			e.must(200, "GET", "/api/v1/me", e.login("officer370303", "new-password-2"), nil)
			if n := e.count("inspections", "1 = 1"); n != 0 {
				t.Errorf("a disabled officer recorded %d inspections", n)
			}
		})
	}
}
