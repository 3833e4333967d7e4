package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// hiddenChars are characters no text field takes (service.fieldErrors.text):
// a right-to-left override, an escape, a zero-width space, a BOM and a line
// separator.
var hiddenChars = []string{"\u202e", "\x1b", "\u200b", "\ufeff", "\u2028"}

// TestHiddenCharactersRefused takes every write of the authorization matrix
// that sends a JSON body, as a caller the matrix lets through, and puts each
// hidden character into each of the body's strings in turn (inside lists of
// objects too, as an inspection's items): every one is 400 naming that field,
// and no row of any table changes. The password is not text and may hold
// anything. An import whose row holds one reports the row's field and
// commits nothing.
func TestHiddenCharactersRefused(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			f := newAuthzFixture(t, e)
			fields := 0
			for _, row := range authzRows(f) {
				if row.body == nil || row.method == "GET" {
					continue
				}
				role := ""
				for _, r := range authzRoles {
					if ws := row.want[r]; len(ws) > 0 && ws[0] < 300 {
						role = r
						break
					}
				}
				if role == "" {
					continue
				}
				tg := f.target(row.scopes[0])
				for _, field := range textFields(row.body(f, tg)) {
					fields++
					for _, ch := range hiddenChars {
						t.Run(fmt.Sprintf("%s %s %s/%q", row.method, row.route, field, ch), func(t *testing.T) {
							ce := *e
							ce.t = t
							path := row.path(f, &ce, tg)
							body := withHidden(row.body(f, tg), field, ch)
							var headers []string
							if row.headers != nil {
								headers = row.headers(f)
							}
							before := dbtest.Dump(t, e.db)
							r := ce.do(row.method, path, f.tokenOf(role), body, headers...)
							checkErrorEnvelope(t, r, http.StatusBadRequest, "invalid_input")
							if got, _ := errPart(r, "fields").(map[string]any); got[field] == nil {
								t.Errorf("fields = %v, want %s named", got, field)
							}
							if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
								t.Errorf("tables changed: %v", changed)
							}
						})
					}
				}
			}
			if fields < 15 {
				t.Errorf("only %d text fields found in the matrix's bodies", fields)
			}

			t.Run("import", func(t *testing.T) {
				ce := *e
				ce.t = t
				var buf bytes.Buffer
				w := csv.NewWriter(&buf)
				w.Write(service.ImportHeader())
				w.Write([]string{"张记\u202e烧烤", "柳泉路", "", "餐饮", "", "", "", "", ""})
				w.Flush()
				before := dbtest.Dump(t, e.db)
				r := ce.importFile(f.w.Admin[0], f.w.County[0], "register.csv", buf.Bytes(), false)
				if got := problemsOf(r); r.Status != 200 || len(got) != 1 || got[0].Row != 2 || got[0].Column != "商户名称" {
					t.Errorf("dry run: %d %s", r.Status, r.Body)
				}
				r = ce.importFile(f.w.Admin[0], f.w.County[0], "register.csv", buf.Bytes(), true)
				checkErrorEnvelope(t, r, http.StatusBadRequest, "invalid_input")
				if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
					t.Errorf("tables changed: %v", changed)
				}
			})
		})
	}
}

// textFields names the string fields of a JSON body, as the field errors
// name them ("note", "items[0].note"), but the password.
func textFields(body any) []string {
	m, ok := body.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if k != "password" {
				out = append(out, k)
			}
		case []map[string]any:
			for i, item := range v {
				for _, sub := range textFields(item) {
					out = append(out, fmt.Sprintf("%s[%d].%s", k, i, sub))
				}
			}
		}
	}
	return out
}

// withHidden puts ch after the first character of the body's field.
func withHidden(body any, field, ch string) any {
	m := body.(map[string]any)
	if k, rest, ok := strings.Cut(field, "["); ok { // items[0].note
		idx, sub, _ := strings.Cut(rest, "].")
		i, _ := strconv.Atoi(idx)
		items := m[k].([]map[string]any)
		items[i] = withHidden(items[i], sub, ch).(map[string]any)
		return m
	}
	s := []rune(m[field].(string))
	m[field] = string(s[:1]) + ch + string(s[1:])
	return m
}
