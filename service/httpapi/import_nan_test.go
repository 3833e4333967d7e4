package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// TestImportRefusesNaNCoordinates: "NaN" (any case) in a register's
// latitude or longitude parses as a number but is no place on the globe:
// the row is refused on both columns and nothing is stored. (It was let
// through the range check: MariaDB answered the commit with a 500, SQLite
// stored the shop without its coordinates. Found by FuzzMerchantFields.)
func TestImportRefusesNaNCoordinates(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			rows := [][]string{service.ImportHeader(), {"坐标商户", "柳泉路", "", "", "", "", "", "NaN", "nan"}}
			before := dbtest.Dump(t, e.db)
			r := e.importFile(w.Admin[0], w.County[0], "register.csv", csvBytes(rows), true)
			checkErrorEnvelope(t, r, http.StatusBadRequest, "invalid_input")
			body, _ := r.JSON["error"].(map[string]any)
			fields, _ := body["fields"].(map[string]any)
			if fields["row 2 纬度"] == nil || fields["row 2 经度"] == nil {
				t.Errorf("want both coordinates of row 2 refused: %s", r.Body)
			}
			if changed := dbtest.DumpDiff(before, dbtest.Dump(t, e.db)); len(changed) > 0 {
				t.Errorf("tables changed: %v", changed)
			}
		})
	}
}
