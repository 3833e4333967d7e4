package web_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// shownPassword is the password an account page shows once ("" when none).
func shownPassword(p page) string {
	return consoleText(between(p.Body, `<code class="big" id="new-password">`, "</code>"))
}

// TestConsoleAccounts: the county's accounts are listed (never another
// county's); an officer's and a shop's account are created with a generated
// password shown once, which signs in; disabling ends the account's sessions
// and logins until it is enabled; a reset password signs in and the old one
// does not; bad input and other counties' accounts change nothing.
func TestConsoleAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			admin := e.signedIn(w.AdminName[0])
			p := admin.get("/console/accounts")
			if p.Status != http.StatusOK {
				t.Fatalf("accounts: %d", p.Status)
			}
			listed := map[string]bool{}
			for _, r := range consoleTable(t, p.Body, "accounts") {
				listed[r.Cells[0]] = true
			}
			for _, u := range []string{w.AdminName[0], w.OfficerName[0], w.ShopName[0]} {
				if !listed[u] {
					t.Errorf("the list lacks %s", u)
				}
			}
			hidden(t, "the accounts", p, w.OfficerName[1], w.ShopName[1], w.AdminName[1], "admin<")
			if strings.Contains(p.Body, fmt.Sprintf(`action="/console/accounts/%d/`, w.Admin[0].UserID)) {
				t.Errorf("the county admin is offered to disable or reset its own account")
			}

			// An officer's account: the password is shown once and signs in.
			p = admin.post("/console/accounts", url.Values{"role": {"officer"}, "username": {"officer-li"}, "display_name": {"李巡查"}})
			pw := shownPassword(p)
			if p.Status != http.StatusOK || len(pw) < 16 {
				t.Fatalf("creating an officer: %d, password %q", p.Status, pw)
			}
			officer := e.browser()
			if p := officer.login("officer-li", pw); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/officer" {
				t.Errorf("the new officer's login: %d to %q", p.Status, p.Header.Get("Location"))
			}
			if p := admin.get("/console/accounts"); strings.Contains(p.Body, pw) || !strings.Contains(p.Body, "李巡查") {
				t.Errorf("the list shows the password again, or lacks the new officer")
			}
			us, _, err := e.svc.Users(ctx, w.Admin[0], service.UserQuery{Role: service.RoleOfficer})
			if err != nil || len(us) != 2 || *us[1].CountyID != w.County[0] || us[1].DisplayName != "李巡查" {
				t.Errorf("the county's officers: %+v %v", us, err)
			}

			// A shop's account, by the shop's code.
			other, err := e.svc.Merchant(ctx, w.Admin[0], w.Other[0])
			if err != nil {
				t.Fatal(err)
			}
			if p := admin.get(fmt.Sprintf("/console/accounts?merchant=%d", other.ID)); !strings.Contains(p.Body, `value="`+other.Code+`"`) {
				t.Errorf("the form from a shop's page does not name the shop's code")
			}
			p = admin.post("/console/accounts", url.Values{"role": {"merchant"}, "username": {"shop-li"}, "shop": {other.Code}})
			if pw := shownPassword(p); p.Status != http.StatusOK || pw == "" || !strings.Contains(p.Body, other.Name) {
				t.Fatalf("creating a shop's account: %d", p.Status)
			} else if p := e.browser().login("shop-li", pw); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/merchant" {
				t.Errorf("the shop's login: %d to %q", p.Status, p.Header.Get("Location"))
			}

			// Bad input: the problem beside its field, nothing stored.
			snap := e.snapshot()
			for _, c := range []struct {
				form   url.Values
				status int
				want   string
			}{
				{url.Values{"role": {"merchant"}, "username": {"shop-x"}, "shop": {"没有这家店"}}, http.StatusBadRequest, `<p class="err" id="shop-err">商户：本区县没有这家商户</p>`},
				{url.Values{"role": {"merchant"}, "username": {"shop-y"}, "shop": {"张记烧烤淄川区"}}, http.StatusBadRequest, "本区县没有这家商户"},
				{url.Values{"role": {"officer"}, "username": {"x"}}, http.StatusBadRequest, `<p class="err" id="username-err">用户名：`},
				{url.Values{"role": {"county_admin"}, "username": {"boss"}}, http.StatusBadRequest, "请选择巡查员、抽查员或商户"},
				{url.Values{"role": {"officer"}, "username": {"officer-li"}}, http.StatusConflict, `<p class="err" id="username-err">用户名：已被使用，请换一个</p>`},
			} {
				p := admin.post("/console/accounts", c.form)
				if p.Status != c.status || !strings.Contains(p.Body, c.want) || shownPassword(p) != "" {
					t.Errorf("creating %v: %d, want %d with %q", c.form, p.Status, c.status, c.want)
				}
				if c.form.Get("username") != "x" && !strings.Contains(p.Body, `value="`+c.form.Get("username")+`"`) {
					t.Errorf("creating %v: the form does not keep the username", c.form)
				}
			}
			if after := e.snapshot(); !maps.Equal(snap, after) {
				t.Errorf("refused accounts stored something: %v → %v", snap, after)
			}

			// Disabling: the officer's session ends and its logins fail until enabled.
			li := findUser(t, e, w.Admin[0], "officer-li")
			if p := admin.post(fmt.Sprintf("/console/accounts/%d/status", li), url.Values{"disabled": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("disabling: %d", p.Status)
			}
			refused(t, "the disabled officer's session", officer.get("/officer"))
			if p := e.browser().login("officer-li", pw); p.Status == http.StatusSeeOther {
				t.Errorf("a disabled account signed in")
			}
			if p := admin.get("/console/accounts?changed=1"); !strings.Contains(p.Body, fmt.Sprintf(`<tr id="user-%d" class="bad">`, li)) ||
				!strings.Contains(p.Body, "已停用") {
				t.Errorf("the list does not show the account disabled")
			}
			if p := admin.post(fmt.Sprintf("/console/accounts/%d/status", li), url.Values{"disabled": {"0"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("enabling: %d", p.Status)
			}
			if p := e.browser().login("officer-li", pw); p.Status != http.StatusSeeOther {
				t.Errorf("the re-enabled account cannot sign in: %d", p.Status)
			}

			// A reset: the new password signs in, the old one and its sessions do not.
			officer = e.browser()
			officer.login("officer-li", pw)
			p = admin.post(fmt.Sprintf("/console/accounts/%d/password", li), nil)
			npw := shownPassword(p)
			if p.Status != http.StatusOK || len(npw) < 16 || npw == pw || !strings.Contains(p.Body, "只在此页显示这一次") {
				t.Fatalf("reset: %d, password %q", p.Status, npw)
			}
			refused(t, "a session begun with the old password", officer.get("/officer"))
			if p := e.browser().login("officer-li", pw); p.Status == http.StatusSeeOther {
				t.Errorf("the old password still signs in")
			}
			if p := e.browser().login("officer-li", npw); p.Status != http.StatusSeeOther {
				t.Errorf("the new password does not sign in: %d", p.Status)
			}
			if p := admin.get("/console/accounts"); strings.Contains(p.Body, npw) {
				t.Errorf("the list shows the new password")
			}

			// Another county's admin: not found, nothing changed.
			otherAdmin := e.signedIn(w.AdminName[1])
			otherAdmin.get("/console/accounts")
			snap = e.snapshot()
			for _, path := range []string{fmt.Sprintf("/console/accounts/%d/status", li), fmt.Sprintf("/console/accounts/%d/password", li),
				fmt.Sprintf("/console/accounts/%d/password", w.Admin[0].UserID)} {
				p := otherAdmin.post(path, url.Values{"disabled": {"1"}})
				if p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
					t.Errorf("%s by another county: %d, want 404", path, p.Status)
				}
				if shownPassword(p) != "" {
					t.Errorf("%s by another county shows a password", path)
				}
			}
			p = otherAdmin.post("/console/accounts", url.Values{"role": {"merchant"}, "username": {"shop-z"}, "shop": {other.Code}})
			if p.Status != http.StatusBadRequest || shownPassword(p) != "" {
				t.Errorf("an account for another county's shop: %d", p.Status)
			}
			if after := e.snapshot(); !maps.Equal(snap, after) {
				t.Errorf("another county's requests stored something: %v → %v", snap, after)
			}
			// Its own admin account is not its to reset either.
			snap = e.snapshot()
			if p := admin.post(fmt.Sprintf("/console/accounts/%d/status", w.Admin[0].UserID), url.Values{"disabled": {"1"}}); p.Status != http.StatusNotFound {
				t.Errorf("disabling itself: %d, want 404", p.Status)
			}
			if after := e.snapshot(); !maps.Equal(snap, after) {
				t.Errorf("disabling itself stored something")
			}
		})
	}
}

// findUser is the id of an account of the actor's county by username.
func findUser(t *testing.T, e *env, a service.Actor, username string) int64 {
	t.Helper()
	us, _, err := e.svc.Users(context.Background(), a, service.UserQuery{Paging: service.Paging{Limit: service.MaxPage}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == username {
			return u.ID
		}
	}
	t.Fatalf("no account %s", username)
	return 0
}
