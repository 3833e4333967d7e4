package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// A citizen's report photo through the API: GET /api/v1/photos/{id} serves
// it to the county's office roles only; an inspection may not name it; once
// the officer's handling makes it evidence, the merchant's ledger and the
// inspections list it under citizen_photos and the merchant may fetch it.
func TestCitizenPhotoThroughAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			m, err := e.db.MerchantByID(ctx, w.Merchant[0])
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.svc.ReportCase(ctx, service.CaseReportInput{Token: e.svc.PlaqueToken(m), RuleCode: "ZXLH-02",
				Photo: bytes.NewReader(tinyPNG(77)), Client: "198.51.100.7", Device: "device-7"})
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.db.CaseByReceipt(ctx, res.Receipt)
			if err != nil || c.PhotoID == nil {
				t.Fatalf("case %+v %v", c, err)
			}
			id := *c.PhotoID
			path := fmt.Sprintf("/api/v1/photos/%d", id)
			serves := func(who, token string, want int) {
				t.Helper()
				if r := e.do("GET", path, token, nil); r.Status != want || (want == http.StatusOK && !bytes.Equal(r.Body, tinyPNG(77))) {
					t.Errorf("%s GET %s: %d, want %d", who, path, r.Status, want)
				}
			}
			serves("the county admin", w.Admin[0], http.StatusOK)
			serves("the county's officer", w.Officer[0], http.StatusOK)
			serves("the city admin", e.admin, http.StatusOK)
			serves("another county's officer", w.Officer[1], http.StatusNotFound)
			serves("the merchant", w.Shop[0], http.StatusNotFound)
			serves("no one", "", http.StatusUnauthorized)

			// Not evidence an officer names.
			before := e.snapshot()
			r := e.inspect(w.Officer[0], "k-citizen", inspection(w.Merchant[0], []int64{id}, map[string]any{"rule_code": "ZXLH-02"}))
			if r.Status != http.StatusBadRequest || r.code() != "invalid_input" {
				t.Errorf("an inspection naming the citizen's photo: %d %s", r.Status, r.Body)
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a refused inspection stored: %v, was %v", after, before)
			}

			// The officer inspects and hands the case in with the photo as evidence.
			admin, err := e.svc.Authenticate(w.Admin[0])
			if err != nil {
				t.Fatal(err)
			}
			officer, err := e.svc.Authenticate(w.Officer[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.AcceptCase(ctx, admin, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.DispatchCase(ctx, admin, c.ID, w.OfficerID[0]); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(e.clock.Now().Add(time.Hour))
			insp := e.inspect(w.Officer[0], "k-visit", inspection(w.Merchant[0], []int64{w.Photo[0]}, map[string]any{"rule_code": "ZXLH-02"}))
			if insp.Status != http.StatusCreated {
				t.Fatalf("inspection: %d %s", insp.Status, insp.Body)
			}
			if _, err := e.svc.HandleCase(ctx, officer, c.ID, service.CaseHandling{Outcome: models.OutcomeInspection,
				InspectionID: insp.id(), AttachPhoto: true}); err != nil {
				t.Fatal(err)
			}
			var ledger struct {
				Items []struct {
					Photos        []int64 `json:"photos"`
					CitizenPhotos []int64 `json:"citizen_photos"`
				} `json:"items"`
			}
			r = e.do("GET", fmt.Sprintf("/api/v1/merchants/%d/ledger", w.Merchant[0]), w.Shop[0], nil)
			if err := json.Unmarshal(r.Body, &ledger); err != nil || r.Status != http.StatusOK || len(ledger.Items) != 1 {
				t.Fatalf("ledger: %d %s", r.Status, r.Body)
			}
			if it := ledger.Items[0]; !slices.Equal(it.Photos, []int64{w.Photo[0], id}) || !slices.Equal(it.CitizenPhotos, []int64{id}) {
				t.Errorf("ledger entry photos %v, citizen_photos %v; want [%d %d], [%d]", it.Photos, it.CitizenPhotos, w.Photo[0], id, id)
			}
			r = e.do("GET", fmt.Sprintf("/api/v1/merchants/%d/inspections", w.Merchant[0]), w.Officer[0], nil)
			var ins struct {
				Items []struct {
					CitizenPhotos []int64 `json:"citizen_photos"`
				} `json:"items"`
			}
			if err := json.Unmarshal(r.Body, &ins); err != nil || len(ins.Items) != 1 || !slices.Equal(ins.Items[0].CitizenPhotos, []int64{id}) {
				t.Errorf("inspections: %d %s", r.Status, r.Body)
			}
			serves("the merchant, once evidence", w.Shop[0], http.StatusOK)
			serves("another county's merchant", w.Shop[1], http.StatusNotFound)
		})
	}
}
