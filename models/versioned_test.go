package models_test

import (
	"context"
	"slices"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// unversioned are the tables whose writes need no change version of their
// own, and why. Pages and API answers are kept while the data stamp stands
// (service.DataStamp: the counties' change versions and two counters), so a
// new table that a page shows must get triggers that bump its county's
// version (see migrations 00013 and 00015), or be added here with the reason
// its writes are already seen.
var unversioned = map[string]string{
	"settings":               "the policy and the load seed: read at start",
	"photos":                 "stored before the inspection, notice or appeal that shows them, and bound to a shop (merchant_id, shown on no page) in the transaction of the inspection or notice that first names it (whose trigger fires)",
	"ledger_entries":         "written with the score row of the same shop, whose trigger fires",
	"closed_cycles":          "counted under models.ClosedCyclesKey",
	"cycle_merchant_results": "written with its closed_cycles row",
	"cycle_road_results":     "written with its closed_cycles row",
	"cycle_county_results":   "written with its closed_cycles row",
	"road_demo_events":       "written with the roads row it changes",
	"login_failures":         "shown on no page",
	"web_sessions":           "checked on every request, before any kept page",
	"audit_events":           "its newest id is models.AuditEventsKey",
	"county_versions":        "the versions themselves",
	"county_changes":         "the change log itself",
	"open311_keys":           "shown on no page (the city admin's API lists them)",
	"case_reports":           "written in the transaction that inserts or updates its cases row (reports + 1), whose trigger fires",
	"case_events":            "written in the transaction that inserts or updates its cases row (the transition), whose trigger fires",
	"audit_records":          "written in the transaction that records its visit (an update of its audit_shops row), whose trigger fires",
}

// TestEveryTableIsVersioned: every table has a trigger that logs its writes
// in county_changes, or is listed in unversioned.
func TestEveryTableIsVersioned(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			tablesQ := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`
			triggersQ := `SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%county_changes%'`
			if db.Dialect() == models.MySQL {
				tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`
				triggersQ = `SELECT event_object_table FROM information_schema.triggers WHERE trigger_schema = DATABASE()
					AND action_statement LIKE '%county_changes%'`
			}
			list := func(q string) []string {
				t.Helper()
				rows, err := db.SQL().QueryContext(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []string
				for rows.Next() {
					var s string
					if err := rows.Scan(&s); err != nil {
						t.Fatal(err)
					}
					out = append(out, s)
				}
				return out
			}
			triggered := list(triggersQ)
			tables := list(tablesQ)
			if len(tables) < 20 {
				t.Fatalf("only %d tables found: %v", len(tables), tables)
			}
			for _, tbl := range tables {
				_, exempt := unversioned[tbl]
				switch has := slices.Contains(triggered, tbl); {
				case !has && !exempt:
					t.Errorf("table %s: no trigger logs its writes in county_changes, and it is not listed as unversioned", tbl)
				case has && exempt:
					t.Errorf("table %s: listed as unversioned, but a trigger logs its writes", tbl)
				}
			}
			for tbl := range unversioned {
				if !slices.Contains(tables, tbl) {
					t.Errorf("unversioned lists %s, which is not a table", tbl)
				}
			}
		})
	}
}
