package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestCaseStorage: one open case per shop and item, joining counts, a
// transition only from the status it expects, and the counts of a cycle.
func TestCaseStorage(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			c := models.County{Code: "370303", Name: "张店区", DemoRoadTarget: 10}
			if err := db.CreateCounty(ctx, &c); err != nil {
				t.Fatal(err)
			}
			r := models.Road{CountyID: c.ID, Name: "柳泉路", DemoStatus: "none"}
			if err := db.CreateRoad(ctx, &r); err != nil {
				t.Fatal(err)
			}
			m := models.Merchant{Code: "AAAAAAAA", CountyID: c.ID, RoadID: r.ID, Name: "m", Status: "active", QRGeneration: 1}
			if err := db.CreateMerchant(ctx, &m); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
			newCase := func(receipt string) error {
				key := models.CaseOpenKey(m.ID, "HJWS-01")
				cs := models.Case{Receipt: receipt, CountyID: c.ID, MerchantID: &m.ID, RoadID: &r.ID, RuleCode: "HJWS-01",
					Status: models.CaseReceived, Source: models.CaseFromPlaque, Reports: 1, ReceivedAt: at, UpdatedAt: at, OpenKey: &key}
				return db.CreateCase(ctx, &cs, &models.CaseReport{Client: "c", Device: "d", ReportedAt: at},
					&models.CaseEvent{Action: "report", ToStatus: models.CaseReceived, At: at})
			}
			if err := newCase("R1"); err != nil {
				t.Fatal(err)
			}
			if err := newCase("R2"); !models.IsDuplicateOf(err, "uq_cases_open_key") {
				t.Fatalf("second open case of one shop and item: %v, want uq_cases_open_key", err)
			}
			open, err := db.OpenCaseOf(ctx, m.ID, "HJWS-01")
			if err != nil || open.Receipt != "R1" {
				t.Fatalf("OpenCaseOf = %+v, %v", open, err)
			}
			if err := db.JoinCase(ctx, open.ID, &models.CaseReport{Phone: "13800000000", Client: "c2", Device: "d2", ReportedAt: at}); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.CaseByID(ctx, open.ID); got.Reports != 2 {
				t.Errorf("reports = %d, want 2", got.Reports)
			}
			if rs, _ := db.CaseReports(ctx, open.ID); len(rs) != 2 || rs[1].Phone != "13800000000" {
				t.Errorf("reports = %+v", rs)
			}
			move := func(from, to string, set map[string]any) error {
				return db.TransitionCase(ctx, models.CaseTransition{CaseID: open.ID, From: from,
					Event: models.CaseEvent{Action: to, ToStatus: to, At: at}, Set: set})
			}
			if err := move(models.CaseAccepted, models.CaseDispatched, nil); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("transition from a status the case is not in: %v, want ErrNotFound", err)
			}
			if es, _ := db.CaseEvents(ctx, open.ID); len(es) != 1 {
				t.Errorf("a refused transition wrote an event: %+v", es)
			}
			due := at.Add(48 * time.Hour)
			for _, st := range []struct {
				from, to string
				set      map[string]any
			}{
				{models.CaseReceived, models.CaseAccepted, nil},
				{models.CaseAccepted, models.CaseDispatched, map[string]any{"due_at": due}},
				{models.CaseDispatched, models.CaseHandled, nil},
				{models.CaseHandled, models.CaseVerified, nil},
				{models.CaseVerified, models.CaseClosed, map[string]any{"closed_at": at.Add(time.Hour), "on_time": true, "open_key": nil}},
			} {
				if err := move(st.from, st.to, st.set); err != nil {
					t.Fatalf("%s → %s: %v", st.from, st.to, err)
				}
			}
			if es, _ := db.CaseEvents(ctx, open.ID); len(es) != 6 || es[5].FromStatus != models.CaseVerified || es[5].ToStatus != models.CaseClosed {
				t.Errorf("events = %+v", es)
			}
			if err := db.JoinCase(ctx, open.ID, &models.CaseReport{Client: "c", Device: "d", ReportedAt: at}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("joining a closed case: %v, want ErrNotFound", err)
			}
			if err := newCase("R3"); err != nil {
				t.Fatalf("a new case after the first closed: %v", err)
			}
			counts, err := db.CountCases(ctx, []int64{c.ID}, at.Add(-time.Hour), at.Add(24*time.Hour), at.Add(72*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var got models.CaseCount
			for _, n := range counts {
				got.Received += n.Received
				got.Open += n.Open
				got.Closed += n.Closed
				got.ClosedOnTime += n.ClosedOnTime
			}
			if got.Received != 2 || got.Open != 1 || got.Closed != 1 || got.ClosedOnTime != 1 {
				t.Errorf("counts = %+v, want 2 received, 1 open, 1 closed on time", got)
			}
		})
	}
}
