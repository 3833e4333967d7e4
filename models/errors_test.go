package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestDuplicateNamesItsConstraint: callers branch on which unique key a
// duplicate hit (a reused idempotency key is not a taken merchant code).
func TestDuplicateNamesItsConstraint(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			c := models.County{Code: "370303", Name: "张店区", DemoRoadTarget: 10}
			if err := db.CreateCounty(ctx, &c); err != nil {
				t.Fatal(err)
			}
			err := db.CreateCounty(ctx, &models.County{Code: "370303", Name: "again"})
			if !models.IsDuplicateOf(err, "uq_counties_code") {
				t.Errorf("duplicate county code: %v, want uq_counties_code", err)
			}
			if models.IsDuplicateOf(err, "uq_merchants_code") {
				t.Errorf("duplicate county code matched uq_merchants_code: %v", err)
			}
			r := models.Road{CountyID: c.ID, Name: "柳泉路", DemoStatus: "none"}
			if err := db.CreateRoad(ctx, &r); err != nil {
				t.Fatal(err)
			}
			uscc := "91370303MA3C0YX87F"
			m := models.Merchant{Code: "AAAAAAAA", CountyID: c.ID, RoadID: r.ID, Name: "m", USCC: &uscc, Status: "active", QRGeneration: 1}
			if err := db.CreateMerchant(ctx, &m); err != nil {
				t.Fatal(err)
			}
			m2 := m
			m2.ID, m2.USCC = 0, nil
			if err := db.CreateMerchant(ctx, &m2); !models.IsDuplicateOf(err, "uq_merchants_code") {
				t.Errorf("duplicate merchant code: %v", err)
			}
			m3 := m
			m3.ID, m3.Code = 0, "BBBBBBBB"
			if err := db.CreateMerchant(ctx, &m3); !models.IsDuplicateOf(err, "uq_merchants_uscc") || models.IsDuplicateOf(err, "uq_merchants_code") {
				t.Errorf("duplicate USCC: %v", err)
			}
			u := models.User{Username: "o", PasswordHash: "x", Role: "officer", CountyID: &c.ID}
			if err := db.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			in := models.Inspection{MerchantID: m.ID, OfficerID: u.ID, Cycle: "2026-11", InspectedAt: time.Now(), IdempotencyKey: "k", RequestHash: "h"}
			if err := db.CreateInspection(ctx, &in); err != nil {
				t.Fatal(err)
			}
			in.ID = 0
			if err := db.CreateInspection(ctx, &in); !models.IsDuplicateOf(err, "uq_inspections_key") {
				t.Errorf("reused idempotency key: %v", err)
			}
			bad := models.Road{CountyID: 999, Name: "x", DemoStatus: "none"}
			if err := db.CreateRoad(ctx, &bad); err == nil || !isRef(err) {
				t.Errorf("road of a missing county: %v, want ErrReference", err)
			}
			if _, err := db.CountyByID(ctx, 999); err != models.ErrNotFound {
				t.Errorf("missing county: %v, want ErrNotFound", err)
			}
		})
	}
}

func isRef(err error) bool { return errors.Is(err, models.ErrReference) }
