package models_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestPhotoMerchantBackfill: migration 00022 binds the photos already in use
// to a shop: a merchant's upload to its own shop, an officer's to the shop
// of the first inspection or notice (by time) that named it; photos named by
// none, and citizens' photos, stay unbound.
func TestPhotoMerchantBackfill(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.SQL().ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec("INSERT INTO counties (code, name, demo_road_target, created_at, updated_at) VALUES ('370303', 'x', 10, '2026-01-01', '2026-01-01')")
			exec("INSERT INTO roads (county_id, name, created_at, updated_at) VALUES (1, 'r', '2026-01-01', '2026-01-01')")
			for _, code := range []string{"AAAAAAAA", "BBBBBBBB", "CCCCCCCC"} {
				exec("INSERT INTO merchants (code, county_id, road_id, name, created_at, updated_at) VALUES (?, 1, 1, 'm', '2026-01-01', '2026-01-01')", code)
			}
			exec("INSERT INTO users (username, password_hash, role, county_id, created_at, updated_at) VALUES ('officer', 'x', 'officer', 1, '2026-01-01', '2026-01-01')")
			exec("INSERT INTO users (username, password_hash, role, merchant_id, created_at, updated_at) VALUES ('shop_c', 'x', 'merchant', 3, '2026-01-01', '2026-01-01')")
			officer, shopC := int64(1), int64(2)
			photo := func(by *int64, origin string) int64 {
				p := models.Photo{SHA256: "ab", ContentType: "image/png", SizeBytes: 1, CountyID: 1, UploadedBy: by, Origin: origin, CreatedAt: time.Now()}
				if err := db.CreatePhoto(ctx, &p); err != nil {
					t.Fatal(err)
				}
				return p.ID
			}
			p1, p2, p3, p4 := photo(&officer, models.PhotoFromAccount), photo(&officer, models.PhotoFromAccount), photo(&officer, models.PhotoFromAccount), photo(&officer, models.PhotoFromAccount)
			mine, citizen := photo(&shopC, models.PhotoFromAccount), photo(nil, models.PhotoFromCitizen)
			at := time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC)
			ins := []models.Inspection{
				// p2 is named first by shop 2's later-stored inspection, which was recorded earlier.
				{MerchantID: 1, PhotoIDs: itoa(p1) + "," + itoa(p2), CreatedAt: at.Add(time.Hour)},
				{MerchantID: 2, PhotoIDs: itoa(p2) + "," + itoa(citizen), CreatedAt: at},
				{MerchantID: 1, PhotoIDs: itoa(mine), CreatedAt: at.Add(-time.Hour)},
				{MerchantID: 1, PhotoIDs: itoa(p3), CreatedAt: at.Add(2 * time.Hour)},
			}
			for i := range ins {
				ins[i].OfficerID, ins[i].Cycle, ins[i].InspectedAt, ins[i].Response = officer, "2026-11", ins[i].CreatedAt, "{}"
				ins[i].IdempotencyKey, ins[i].RequestHash = "k"+itoa(int64(i)), "h"
			}
			if err := db.CreateInspections(ctx, ins); err != nil {
				t.Fatal(err)
			}
			// A notice on shop 3 names p3 before its inspection on shop 1.
			exec("INSERT INTO notices (merchant_id, county_id, photo_ids, status, issued_by, issued_at, due_at) VALUES (3, 1, ?, 'open', ?, ?, ?)",
				itoa(p3), officer, at.Add(90*time.Minute), at.Add(48*time.Hour))

			if err := db.MigrateTo(ctx, 21); err != nil {
				t.Fatal(err)
			}
			if err := db.MigrateTo(ctx, 22); err != nil {
				t.Fatal(err)
			}
			want := map[int64]int64{p1: 1, p2: 2, p3: 3, p4: 0, mine: 3, citizen: 0}
			for id, shop := range want {
				var got *int64
				if err := db.SQL().QueryRowContext(ctx, "SELECT merchant_id FROM photos WHERE id = ?", id).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if (got == nil) != (shop == 0) || (got != nil && *got != shop) {
					t.Errorf("photo %d bound to %v, want %d (0: none)", id, got, shop)
				}
			}
			if _, err := db.Migrate(ctx); err != nil { // and any later migration
				t.Fatal(err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
