package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/httpapi"
)

// TestNonObjectBodies sends every POST, PUT and PATCH route of the API
// (the routes TestAuthzCoversEveryRoute holds the matrix to) a body of JSON
// null, an array, a string and a number, as a caller the matrix lets through:
// each is 400 invalid_input in the error format and changes no row of any
// table. (A null body used to be read as {}: a merchant's POST
// /notices/{id}/rectified with the body null marked the notice rectified.)
func TestNonObjectBodies(t *testing.T) {
	t.Parallel()
	engine, ok := httpapi.New(httpapi.Options{Registry: prometheus.NewRegistry()}).(*gin.Engine)
	if !ok {
		t.Fatal("handler is not a gin engine")
	}
	var routes []gin.RouteInfo
	for _, r := range engine.Routes() {
		if strings.HasPrefix(r.Path, "/api/") && slices.Contains([]string{"POST", "PUT", "PATCH"}, r.Method) {
			routes = append(routes, r)
		}
	}
	if len(routes) < 20 {
		t.Fatalf("only %d write routes found", len(routes))
	}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			f := newAuthzFixture(t, e)
			rows := authzRows(f)
			for _, rt := range routes {
				t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
					ce := *e
					ce.t = t
					path, token, headers := nonObjectTarget(t, f, &ce, rows, rt)
					for _, body := range []string{"null", " null ", "[]", `[{"note":"x"}]`, `"x"`, "1", "true"} {
						before := dbtest.Dump(t, e.db)
						r := ce.do(rt.Method, path, token, []byte(body), headers...)
						checkErrorEnvelope(t, r, http.StatusBadRequest, "invalid_input")
						if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
							t.Errorf("body %s: tables changed: %v", body, changed)
						}
					}
				})
			}
		})
	}
}

// nonObjectTarget is the path, token and headers of a request to rt that
// the authorization matrix answers with a success: a caller allowed to write
// there, at a resource of its own. Where no cell succeeds (an application
// only a shop the matrix does not own may make), a signed-in caller whose
// refusal comes from the service, after the body was read.
func nonObjectTarget(t *testing.T, f *authzFixture, e *env, rows []authzRow, rt gin.RouteInfo) (string, string, []string) {
	t.Helper()
	if rt.Path == "/api/v1/auth/login" {
		return rt.Path, "", nil
	}
	for _, allowed := range []func(status int) bool{
		func(s int) bool { return s < 300 },
		func(s int) bool { return s != http.StatusUnauthorized },
	} {
		for _, row := range rows {
			if row.method != rt.Method || row.route != rt.Path {
				continue
			}
			for _, role := range authzRoles {
				if ws := row.want[role]; len(ws) > 0 && allowed(ws[0]) {
					var headers []string
					if row.headers != nil {
						headers = row.headers(f)
					}
					return row.path(f, e, f.target(row.scopes[0])), f.tokenOf(role), headers
				}
			}
		}
	}
	t.Fatal(fmt.Sprintf("no cell for %s %s in the authorization matrix", rt.Method, rt.Path))
	return "", "", nil
}
