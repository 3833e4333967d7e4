package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/httpapi"
)

// fairnessWorld gives the first county six more officers: five deduct at
// 18 of 60 inspections, 巡查员丙 at 36 of 60 (twice as often), spread over
// September to November and both of its shops. It returns 巡查员丙's id.
func (e *env) fairnessWorld(w world) int64 {
	e.t.Helper()
	var outlier int64
	for i, name := range []string{"巡查员甲", "巡查员乙", "巡查员丙", "巡查员丁", "巡查员戊", "巡查员己"} {
		u, err := e.svc.CreateUser(context.Background(), e.admin, service.UserInput{Username: fmt.Sprintf("patrol%d", i), Password: password,
			Role: service.RoleOfficer, CountyID: &w.County[0], DisplayName: name})
		if err != nil {
			e.t.Fatal(err)
		}
		deducting := 18
		if name == "巡查员丙" {
			deducting, outlier = 36, u.ID
		}
		dbtest.Inspections(e.t, e.db, u.ID, []int64{w.Merchant[0], w.Other[0]}, []string{"2026-09", "2026-10", "2026-11"}, 60, deducting, "HJWS-01", 2)
	}
	return outlier
}

// fairnessCellRE reads a rate's cell of the report's table.
var fairnessCellRE = regexp.MustCompile(`data-metric="(\w+)"><span class="estimate">([^<]*)</span> <span class="interval">（([^–]+)–([^）]+)）</span>.*?原始&nbsp;<span class="raw">([^<]*)</span> · n=<span class="trials">(\d+)</span> · 同行&nbsp;<span class="peer">([^<]*)</span>`)

var fairnessRowRE = regexp.MustCompile(`(?s)<tr data-unit="(\d+)"( class="bad")?>(.*?)</tr>`)

// TestFairnessPage: the county admin's page flags 巡查员丙 alone, in the
// table and the chart, and every number of its table is the JSON API's,
// written as the page writes them; roads and another metric open too; the
// city admin picks the county first.
func TestFairnessPage(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			outlier := e.fairnessWorld(w)
			admin := e.signedIn(w.AdminName[0])
			p := admin.get("/console/fairness?from=2026-09&to=2026-11")
			if p.Status != http.StatusOK {
				t.Fatalf("page: %d %s", p.Status, p.Body)
			}
			api := httptest.NewServer(httpapi.New(httpapi.Options{Service: e.svc, Registry: prometheus.NewRegistry()}))
			defer api.Close()
			u, err := e.db.UserByUsername(context.Background(), w.AdminName[0])
			if err != nil {
				t.Fatal(err)
			}
			token, _, err := e.svc.IssueToken(u)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/counties/%d/fairness?from=2026-09&to=2026-11", api.URL, w.County[0]), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var rep struct {
				Metrics []struct {
					Key     string `json:"key"`
					Percent bool   `json:"percent"`
				} `json:"metrics"`
				Officers struct {
					Items []struct {
						ID          int64 `json:"id"`
						Inspections int   `json:"inspections"`
						Flagged     bool  `json:"flagged"`
						Rates       map[string]struct {
							Trials   float64  `json:"trials"`
							Raw      float64  `json:"raw"`
							Estimate float64  `json:"estimate"`
							Low      float64  `json:"low"`
							High     float64  `json:"high"`
							PeerMean *float64 `json:"peer_mean"`
						} `json:"rates"`
					} `json:"items"`
				} `json:"officers"`
			}
			if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != 200 {
				t.Fatalf("JSON: %d %v", res.StatusCode, err)
			}
			percent := map[string]bool{}
			for _, m := range rep.Metrics {
				percent[m.Key] = m.Percent
			}
			figure := func(key string, v float64) string {
				if percent[key] {
					return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%"
				}
				return strconv.FormatFloat(v, 'f', 2, 64)
			}

			rows := fairnessRowRE.FindAllStringSubmatch(p.Body, -1)
			if len(rows) != len(rep.Officers.Items) || len(rows) != 7 {
				t.Fatalf("%d rows on the page, %d in the JSON, want 7", len(rows), len(rep.Officers.Items))
			}
			cells := 0
			for i, row := range rows {
				o := rep.Officers.Items[i]
				if row[1] != strconv.FormatInt(o.ID, 10) || (row[2] != "") != o.Flagged || (o.Flagged != (o.ID == outlier)) {
					t.Errorf("row %d: unit %s flagged %q; JSON %d flagged %v", i, row[1], row[2], o.ID, o.Flagged)
				}
				if !strings.Contains(row[3], fmt.Sprintf(`<td class="num inspections">%d</td>`, o.Inspections)) {
					t.Errorf("row %d: inspections are not %d", i, o.Inspections)
				}
				for _, c := range fairnessCellRE.FindAllStringSubmatch(row[3], -1) {
					cells++
					r := o.Rates[c[1]]
					peer := "—"
					if r.PeerMean != nil {
						peer = figure(c[1], *r.PeerMean)
					}
					want := []string{figure(c[1], r.Estimate), figure(c[1], r.Low), figure(c[1], r.High), figure(c[1], r.Raw), strconv.Itoa(int(r.Trials)), peer}
					if got := c[2:]; strings.Join(got, "|") != strings.Join(want, "|") {
						t.Errorf("officer %d %s: page %v, JSON %v", o.ID, c[1], got, want)
					}
				}
			}
			if cells != 7*len(service.FairnessMetrics) {
				t.Errorf("%d rate cells read, want %d", cells, 7*len(service.FairnessMetrics))
			}
			if !strings.Contains(p.Body, `<p class="flash bad" id="flagged">区间不含同行均值、需要关注：<strong>巡查员丙</strong></p>`) {
				t.Errorf("the page does not name 巡查员丙 alone as flagged")
			}
			if n := strings.Count(p.Body, `<g class="dot flagged"`); n != 1 || !strings.Contains(p.Body, fmt.Sprintf(`<g class="dot flagged" data-unit="%d">`, outlier)) {
				t.Errorf("%d flagged dots in the chart, want 巡查员丙's alone", n)
			}
			if n := strings.Count(p.Body, `<g class="dot`); n != 6 { // 王巡查 has no inspection: no dot
				t.Errorf("%d dots, want 6", n)
			}

			for path, want := range map[string]string{
				"/console/fairness?by=road&from=2026-09&to=2026-11":                     "各道路的指标",
				"/console/fairness?metric=points_per_deduction&from=2026-09&to=2026-11": "每项扣分分值（每扣分项）",
				"/console/fairness?from=2026-12":                                        "不能晚于本月",
			} {
				if p := admin.get(path); !strings.Contains(p.Body, want) {
					t.Errorf("%s: %d, no %q", path, p.Status, want)
				}
			}
			city := e.browser()
			if p := city.login("admin", adminPassword); p.Status != http.StatusSeeOther {
				t.Fatalf("city login: %d", p.Status)
			}
			if p := city.get("/console/fairness"); p.Status != 200 || !strings.Contains(p.Body, "请选择区县") || strings.Contains(p.Body, "巡查员丙") {
				t.Errorf("city admin without a county: %d", p.Status)
			}
			if p := city.get(fmt.Sprintf("/console/fairness?county_id=%d&from=2026-09", w.County[0])); !strings.Contains(p.Body, "需要关注：<strong>巡查员丙</strong>") {
				t.Errorf("city admin with the county: %d, 巡查员丙 not flagged", p.Status)
			}
		})
	}
}

// TestFairnessBrowser: in Chromium at 1366×768 the county admin opens 执法公平
// from the console's menu and sees 巡查员丙 flagged in the table and, in red
// and labelled, in the chart, and nobody else flagged.
func TestFairnessBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, models.SQLite)
	w := e.seed()
	e.fairnessWorld(w)
	b := e.chrome(t)
	b.viewport(1366, 768)
	b.login(w.AdminName[0], password)
	b.at("/console")
	b.click("执法公平")
	b.at("/console/fairness")
	b.shows("巡查员丙")
	if got := b.within("#fairness tbody tr.bad td"); !strings.Contains(got, "巡查员丙") || !strings.Contains(got, "需关注") {
		t.Errorf("the table's flagged row: %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll("#fairness tbody tr.bad").length`); n != 1 {
		t.Errorf("%d flagged rows, want 1", n)
	}
	label := eval[string](b, `Array.from(document.querySelectorAll("#fair-chart g.flagged text")).map(t => t.textContent).join("|")`)
	if label != "巡查员丙（偏高）" {
		t.Errorf("the chart's flagged labels: %q", label)
	}
	if fill := eval[string](b, `document.querySelector("#fair-chart g.flagged circle").getAttribute("fill")`); fill != "#b3261e" {
		t.Errorf("the flagged dot is %s, not red", fill)
	}
	if n := eval[int](b, `document.querySelectorAll("#fair-chart g.dot").length`); n != 6 {
		t.Errorf("%d dots in the chart, want 6", n)
	}
	// Nine columns fit a 1366 px console without scrolling sideways.
	if over := eval[int](b, `(s => s.scrollWidth - s.clientWidth)(document.querySelector("#fairness").parentElement)`); over > 0 {
		t.Errorf("the table scrolls %d px sideways at 1366 px", over)
	}
	b.noScriptErrors()
}
