package httpapi_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// TestImportXLSXRowBomb: an XLSX register of twice the row limit (generated
// with excelize's StreamWriter, one short cell a row) is refused by the dry
// run and the commit with 400 and the file's field error, and nothing is
// stored. (The reading stops one row past the limit: TestReadXLSXStopsAtLimit.)
func TestImportXLSXRowBomb(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	header := make([]any, 0, len(service.ImportHeader()))
	for _, h := range service.ImportHeader() {
		header = append(header, h)
	}
	if err := sw.SetRow("A1", header); err != nil {
		t.Fatal(err)
	}
	for i := range 2 * service.MaxImportRows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{"x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := seedFast(e)
			for _, commit := range []bool{false, true} {
				before := dbtest.Dump(t, e.db)
				r := e.importFile(w.Admin[0], w.County[0], "register.xlsx", buf.Bytes(), commit)
				checkErrorEnvelope(t, r, 400, "invalid_input")
				if fields, _ := errPart(r, "fields").(map[string]any); fields["file"] != "最多 50000 行" {
					t.Errorf("commit=%t: fields = %v, want file: 最多 50000 行", commit, fields)
				}
				if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
					t.Errorf("commit=%t: tables changed: %v", commit, changed)
				}
			}
		})
	}
}
