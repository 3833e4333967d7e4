package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// TestFormsRefuseHiddenCharacters: the pages' forms go through the same text
// checks as the API: a right-to-left override in a new shop's name and an
// escape in a notice's note are answered 400 saying what is wrong (beside
// the shop's name) and store nothing; a line break typed in the notice's textarea
// (CRLF, as browsers send it) is kept as LF.
func TestFormsRefuseHiddenCharacters(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			c0, road, shop := id(w.County[0]), id(w.Road[0]), id(w.Merchant[0])
			admin := e.signedIn(w.AdminName[0])
			officer := e.signedIn(w.OfficerName[0])
			for _, c := range []struct {
				name       string
				b          *browser
				form, path string
				values     url.Values
				field      string
			}{
				{"shop name", admin, "/console/shops/new?county_id=" + c0, "/console/shops?county_id=" + c0,
					url.Values{"road_id": {road}, "name": {"张记\u202e烧烤"}}, "name"},
				{"notice note", officer, "/officer/shops/" + shop + "/notice", "/officer/shops/" + shop + "/notice",
					url.Values{"rule_code": {"HJWS-01"}, "due_days": {"3"}, "note": {"门前\x1b[31m纸箱"}}, "note"},
			} {
				c.b.get(c.form)
				before := dbtest.Dump(t, e.db)
				p := c.b.post(c.path, c.values)
				if p.Status != http.StatusBadRequest {
					t.Errorf("%s: %d, want 400", c.name, p.Status)
				}
				besideField(t, c.name, p, c.field, "含有不允许的控制字符或不可见字符")
				if c.field == "note" && strings.Count(p.Body, "含有不允许的控制字符或不可见字符") != 1 {
					t.Errorf("%s: the problem is not said once, beside its field", c.name)
				}
				if c.field == "note" && !strings.Contains(p.Body, "门前\x1b[31m纸箱</textarea>") {
					t.Errorf("%s: the note typed is not kept in the form", c.name)
				}
				if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
					t.Errorf("%s: tables changed: %v", c.name, changed)
				}
			}
			// The merchant's "已整改" form: the problem beside the note of
			// that notice, the note kept, nothing stored.
			n, err := e.svc.IssueNotice(context.Background(), w.Officer[0], w.Merchant[0], service.NoticeInput{RuleCode: "HJWS-01"})
			if err != nil {
				t.Fatal(err)
			}
			merchant := e.signedIn(w.ShopName[0])
			merchant.get("/merchant/notices")
			before := dbtest.Dump(t, e.db)
			p := merchant.postMultipart("/merchant/notices/"+id(n.ID)+"/fixed", map[string]string{"note": "已清理\u2028完毕"},
				map[string][]byte{"photo": tinyPNG(4242)})
			if p.Status != http.StatusBadRequest {
				t.Errorf("the merchant's note: %d, want 400", p.Status)
			}
			besideField(t, "the merchant's note", p, "note-"+id(n.ID), "含有不允许的控制字符或不可见字符")
			if !strings.Contains(p.Body, "已清理\u2028完毕</textarea>") {
				t.Error("the merchant's note is not kept in the form")
			}
			if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
				t.Errorf("the merchant's note: tables changed: %v", changed)
			}

			officer.get("/officer/shops/" + shop + "/notice")
			if p := officer.post("/officer/shops/"+shop+"/notice", url.Values{"rule_code": {"HJWS-01"}, "due_days": {"3"},
				"note": {"门前纸箱\r\n三日内清理"}}); p.Status >= 400 {
				t.Fatalf("a two-line note: %d %s", p.Status, p.Body)
			}
			var note string
			if err := e.db.SQL().QueryRow("SELECT note FROM notices ORDER BY id DESC LIMIT 1").Scan(&note); err != nil || note != "门前纸箱\n三日内清理" {
				t.Errorf("stored note %q (%v), want the two lines joined by LF", note, err)
			}
		})
	}
}
