package dbtest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/menqian/menqian/models"
)

// Dump returns every row of every table but goose's, as text, by table: two
// dumps are equal only when nothing was stored, updated or deleted between
// them. Tests of refused requests compare a dump from before with one from
// after, which also catches an update that leaves the row counts alone (a
// notice marked rectified, a plaque reissued).
func Dump(t testing.TB, db *models.DB) map[string]string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`
	if db.Dialect() == models.MySQL {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`
	}
	var tables []string
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, s)
	}
	rows.Close()
	out := make(map[string]string, len(tables))
	for _, tbl := range tables {
		out[tbl] = dumpTable(t, db.SQL(), tbl)
	}
	return out
}

func dumpTable(t testing.TB, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table) // the name comes from the catalogue above
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%q ", cols[i], v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// DumpDiff names the tables whose rows differ between two dumps.
func DumpDiff(before, after map[string]string) []string {
	var out []string
	for tbl, a := range after {
		if before[tbl] != a {
			out = append(out, tbl)
		}
	}
	for tbl := range before {
		if _, ok := after[tbl]; !ok {
			out = append(out, tbl)
		}
	}
	return out
}
