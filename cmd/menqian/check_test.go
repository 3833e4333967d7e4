package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// TestCheckFindsCorruptDerivedData: `menqian check` passes on the demo and
// fails, naming the problem, on each kind of corruption of what the views
// and rankings are derived from: a county version behind its log, a change
// missing from the log, and a closed cycle's road result that no longer sums
// up its shops.
func TestCheckFindsCorruptDerivedData(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dt := openDemoTarget(t, d)
			dt.load(t, demoTestPresent, 7, demoTestSmall)
			check := func() (string, error) {
				var out bytes.Buffer
				err := run(context.Background(), []string{"check"}, dt.env, &out, &bytes.Buffer{})
				return out.String(), err
			}
			if out, err := check(); err != nil || !strings.HasPrefix(out, "ok: ") {
				t.Fatalf("check of the demo: %v\n%s", err, out)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := dt.db.SQL().Exec(q, args...); err != nil {
					t.Fatal(err)
				}
			}
			var county, version int64
			if err := dt.db.SQL().QueryRow(`SELECT county_id, version FROM county_versions ORDER BY county_id LIMIT 1`).Scan(&county, &version); err != nil {
				t.Fatal(err)
			}
			var road int64
			var cycle string
			if err := dt.db.SQL().QueryRow(`SELECT road_id, cycle FROM cycle_road_results WHERE merchants > 0 ORDER BY cycle, road_id LIMIT 1`).
				Scan(&road, &cycle); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name, want    string
				corrupt, heal func()
			}{
				{"version behind its log", "above its version",
					func() { exec(`UPDATE county_versions SET version = version - 1 WHERE county_id = ?`, county) },
					func() { exec(`UPDATE county_versions SET version = version + 1 WHERE county_id = ?`, county) }},
				{"a change missing", "its log holds",
					func() {
						exec(`UPDATE county_changes SET version = -version WHERE county_id = ? AND version = ?`, county, version-1)
					},
					func() {
						exec(`UPDATE county_changes SET version = -version WHERE county_id = ? AND version = ?`, county, 1-version)
					}},
				{"road result", "its shops give",
					func() {
						exec(`UPDATE cycle_road_results SET score_cents = score_cents + 1 WHERE road_id = ? AND cycle = ?`, road, cycle)
					},
					func() {
						exec(`UPDATE cycle_road_results SET score_cents = score_cents - 1 WHERE road_id = ? AND cycle = ?`, road, cycle)
					}},
			} {
				c.corrupt()
				out, err := check()
				var ec exitCode
				if !errors.As(err, &ec) || ec != 2 || !strings.Contains(out, "MISMATCH") || !strings.Contains(out, c.want) {
					t.Errorf("%s: check = %v, want exit 2 naming it (%q):\n%s", c.name, err, c.want, out)
				}
				c.heal()
				if out, err := check(); err != nil {
					t.Fatalf("after healing %s: %v\n%s", c.name, err, out)
				}
			}
		})
	}
}
