package models_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// columns lists table.column names of every menqian table of db.
func columns(t *testing.T, db *models.DB) []string {
	t.Helper()
	ctx := context.Background()
	var q string
	if db.Dialect() == models.MySQL {
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`
	} else {
		q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'`
	}
	rows, err := db.SQL().QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.ToLower(tbl+"."+col))
	}
	sort.Strings(out)
	return out
}

func TestDialectsHaveTheSameSchema(t *testing.T) {
	sqlite := columns(t, dbtest.Open(t, models.SQLite))
	mysql := columns(t, dbtest.Open(t, models.MySQL))
	if len(sqlite) < 50 {
		t.Fatalf("only %d columns in sqlite schema", len(sqlite))
	}
	if strings.Join(sqlite, "\n") != strings.Join(mysql, "\n") {
		t.Errorf("schemas differ:\nsqlite: %v\nmysql:  %v", sqlite, mysql)
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			exec := func(q string) error { _, err := db.SQL().ExecContext(ctx, q); return err }
			for _, q := range []string{
				"INSERT INTO counties (code, name, demo_road_target, created_at, updated_at) VALUES ('370303', 'x', 10, '2026-01-01', '2026-01-01')",
				"INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('u', 'h', 'officer', '2026-01-01', '2026-01-01')",
				"INSERT INTO roads (county_id, name, created_at, updated_at) VALUES (1, 'r', '2026-01-01', '2026-01-01')",
				"INSERT INTO merchants (code, county_id, road_id, name, created_at, updated_at) VALUES ('AAAAAAAA', 1, 1, 'm', '2026-01-01', '2026-01-01')",
				"INSERT INTO ledger_entries (merchant_id, cycle, kind, counts_as, points, rule_code, author_id, occurred_at, created_at) VALUES (1, '2026-01', 'deduction', 'deduction', -2, 'HJWS-01', 1, '2026-01-01', '2026-01-01')",
			} {
				if err := exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := exec("UPDATE ledger_entries SET points = 0"); err == nil {
				t.Error("UPDATE of a ledger entry succeeded")
			}
			if err := exec("DELETE FROM ledger_entries"); err == nil {
				t.Error("DELETE of a ledger entry succeeded")
			}
			var pts int
			db.SQL().QueryRowContext(ctx, "SELECT points FROM ledger_entries").Scan(&pts)
			if pts != -2 {
				t.Errorf("points = %d, want -2", pts)
			}
		})
	}
}
