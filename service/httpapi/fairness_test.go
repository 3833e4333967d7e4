package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// fairnessAuthzRows are the matrix's cells of the fairness report: its
// county's admin and the city admin read it, nobody else.
func fairnessAuthzRows() []authzRow {
	return []authzRow{
		{method: "GET", route: "/api/v1/counties/:id/fairness", scopes: scopes2, path: idPath("/api/v1/counties/", countyOf, "/fairness"),
			want:  map[string][]int{"city_admin": {200, 200}, "county_admin": {200, 404}, "officer": {403, 403}, "merchant": {403, 403}},
			check: wantField("county_id", countyOf)},
	}
}

// fairnessJSON is the part of the JSON report the export test compares.
type fairnessJSON struct {
	CountyID int64  `json:"county_id"`
	From     string `json:"from"`
	To       string `json:"to"`
	Officers struct {
		Items []struct {
			ID          int64  `json:"id"`
			Name        string `json:"name"`
			Inspections int    `json:"inspections"`
			Deductions  int    `json:"deductions"`
			Flagged     bool   `json:"flagged"`
			Rates       map[string]struct {
				Raw      float64  `json:"raw"`
				Estimate float64  `json:"estimate"`
				Low      float64  `json:"low"`
				High     float64  `json:"high"`
				PeerMean *float64 `json:"peer_mean"`
			} `json:"rates"`
		} `json:"items"`
	} `json:"officers"`
	Roads struct {
		Items []struct {
			Name        string `json:"name"`
			Inspections int    `json:"inspections"`
		} `json:"items"`
	} `json:"roads"`
}

// TestFairnessExports: the JSON report carries every officer and road with
// its six rates; the CSV (after its BOM) and the XLSX (no formula cells)
// carry the same counts and numbers, formula-like names made inert; bad
// input is 400 naming the field.
func TestFairnessExports(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			county := w.County[0]
			hash, err := seedHash()
			if err != nil {
				t.Fatal(err)
			}
			u := models.User{Username: "formula_officer", DisplayName: "@SUM(1)", PasswordHash: hash, Role: service.RoleOfficer, CountyID: &county}
			if err := e.db.CreateUser(context.Background(), &u); err != nil {
				t.Fatal(err)
			}
			formula, _, err := e.svc.IssueToken(u)
			if err != nil {
				t.Fatal(err)
			}
			road := e.must(201, "POST", "/api/v1/roads", w.Admin[0], map[string]any{"county_id": county, "name": "=2路"}).id()
			shop := e.newMerchant(w.Admin[0], road, "公式路商户")
			e.record(w.Officer[0], w.Merchant[0], w.Photo[0], item("HJWS-01", 2))
			e.record(w.Officer[0], shop, w.Photo[0], item("ZXLH-05", 10), item("HJWS-02", 3))
			e.record(formula, shop, 0, item("BONUS-01", 2))

			j := e.must(200, "GET", fmt.Sprintf("/api/v1/counties/%d/fairness", county), w.Admin[0], nil)
			var rep fairnessJSON
			if err := json.Unmarshal(j.Body, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.CountyID != county || rep.From != "2026-06" || rep.To != "2026-11" || j.Header.Get("Cache-Control") != "private, no-store" {
				t.Errorf("report %d %s..%s, cache %q", rep.CountyID, rep.From, rep.To, j.Header.Get("Cache-Control"))
			}
			if !strings.Contains(string(j.Body), `"name":"@SUM(1)"`) || !strings.Contains(string(j.Body), `"name":"=2路"`) {
				t.Errorf("JSON does not carry the names raw: %s", j.Body)
			}
			byName := map[string]int{}
			for i, o := range rep.Officers.Items {
				byName[o.Name] = i
				if len(o.Rates) != len(service.FairnessMetrics) {
					t.Errorf("%s: %d rates", o.Name, len(o.Rates))
				}
			}
			first, ok := byName["officer370303"]
			if !ok || rep.Officers.Items[first].Inspections != 2 || rep.Officers.Items[first].Deductions != 3 {
				t.Fatalf("officers %+v", rep.Officers.Items)
			}
			if o := rep.Officers.Items[byName["@SUM(1)"]]; o.Inspections != 1 || o.Deductions != 0 {
				t.Errorf("the second officer: %+v", o)
			}

			c := e.must(200, "GET", fmt.Sprintf("/api/v1/counties/%d/fairness?format=csv", county), e.admin, nil)
			if ct := c.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(c.Header.Get("Content-Disposition"), ".csv") {
				t.Errorf("CSV headers: %q %q", ct, c.Header.Get("Content-Disposition"))
			}
			x := e.must(200, "GET", fmt.Sprintf("/api/v1/counties/%d/fairness?format=xlsx", county), w.Admin[0], nil)
			xt, sheets := xlsxTables(t, x.Body)
			if !reflect.DeepEqual(sheets, []string{"说明", "全区县先验", "巡查员", "道路"}) {
				t.Errorf("sheets = %v", sheets)
			}
			for format, tables := range map[string]map[string][][]string{"CSV": csvTables(t, c.Body), "XLSX": xt} {
				officers, roads := tables["巡查员"], tables["道路"]
				if len(officers) != len(rep.Officers.Items)+1 || len(roads) != len(rep.Roads.Items)+1 {
					t.Fatalf("%s: %d officer and %d road rows for %d and %d", format, len(officers)-1, len(roads)-1, len(rep.Officers.Items), len(rep.Roads.Items))
				}
				head := officers[0]
				col := func(name string) int { return slices.Index(head, name) }
				for i, o := range rep.Officers.Items {
					row := officers[i+1]
					if row[col("巡查员")] != inertText(o.Name) || row[col("巡查次数")] != strconv.Itoa(o.Inspections) || row[col("扣分项")] != strconv.Itoa(o.Deductions) {
						t.Errorf("%s row %v, JSON %+v", format, row, o)
					}
					est := o.Rates["deductions_per_inspection"]
					for part, want := range map[string]float64{"原始值": est.Raw, "收缩估计": est.Estimate, "区间下限": est.Low, "区间上限": est.High} {
						got, err := strconv.ParseFloat(row[col("每次巡查扣分项数 "+part)], 64)
						if err != nil || math.Abs(got-want) > 5e-5 {
							t.Errorf("%s %s %s = %q, JSON %g", format, o.Name, part, row[col("每次巡查扣分项数 "+part)], want)
						}
					}
				}
				if i := slices.Index(head, "抽查对比店次"); i < 0 {
					t.Errorf("%s: no audit columns in %v", format, head)
				}
				found := false
				for _, row := range roads[1:] {
					found = found || row[1] == "'=2路"
				}
				if !found {
					t.Errorf("%s: the road's name is not inert: %v", format, roads)
				}
			}
			for _, raw := range []string{",@SUM(1)", ",=2路"} {
				if strings.Contains(string(c.Body), raw) {
					t.Errorf("CSV has a live formula cell %q", raw)
				}
			}

			for _, c := range []struct{ query, field string }{
				{"?format=pdf", "format"}, {"?from=2026-13", "from"}, {"?to=2027-01", "to"},
				{"?from=2026-11&to=2026-10", "from"}, {"?from=2024-01&to=2026-11", "from"},
			} {
				r := e.do("GET", fmt.Sprintf("/api/v1/counties/%d/fairness%s", county, c.query), w.Admin[0], nil)
				checkErrorEnvelope(t, r, 400, "invalid_input")
				if errPart(r, "fields") == nil || !strings.Contains(string(r.Body), `"`+c.field+`"`) {
					t.Errorf("%s: %s, want a problem with %s", c.query, r.Body, c.field)
				}
			}
		})
	}
}
