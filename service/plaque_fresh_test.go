package service

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// TestPublicProfileFreshAcrossInstances: the plaque profile another instance
// has cached shows, on the next scan, an inspection, a rename and a reissued
// plaque recorded on this one; and an unchanged county is answered from the
// cache without reading the shop again.
func TestPublicProfileFreshAcrossInstances(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newBatchWorld(t, d)
			ctx := context.Background()
			now := w.s.now()
			other := New(Options{DB: w.db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"), Photos: photostore.NewLocal(t.TempDir()),
				PublicURL: "http://mq.test", Clock: func() time.Time { return now }, PasswordCost: bcrypt.MinCost})
			m, err := w.db.MerchantByID(ctx, w.open)
			if err != nil {
				t.Fatal(err)
			}
			token := other.plaques.Token(m.Code, m.QRGeneration)
			scan := func() PublicProfile {
				t.Helper()
				p, err := other.ProfileByToken(ctx, token)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			if p := scan(); p.Score.Score != 100 || p.Name != "烧烤店" {
				t.Fatalf("first scan: %+v", p)
			}
			// Cached: the same answer without the shop being read (a rename
			// behind the triggers' back is not seen until the county changes).
			if _, err := w.db.SQL().Exec(`UPDATE merchants SET name = '改名不记' WHERE id = ?`, m.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.db.SQL().Exec(`UPDATE county_versions SET version = version - 1 WHERE county_id = ?`, m.CountyID); err != nil {
				t.Fatal(err) // undo the rename's version bump: as if nothing changed
			}
			if p := scan(); p.Name != "烧烤店" {
				t.Errorf("an unchanged county's profile was read again: name %q", p.Name)
			}
			if _, err := w.db.SQL().Exec(`UPDATE county_versions SET version = version + 1 WHERE county_id = ?`, m.CountyID); err != nil {
				t.Fatal(err)
			}

			if _, _, err := w.s.RecordInspection(ctx, w.officer, "fresh-1", InspectionInput{MerchantID: m.ID,
				Items: []InspectionItem{item("HJWS-02", 5)}, Photos: []int64{w.photo[m.ID]}}); err != nil {
				t.Fatal(err)
			}
			if p := scan(); p.Score.Score != 95 {
				t.Errorf("after an inspection on the other instance: score %d, want 95", p.Score.Score)
			}
			admin := Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin}
			name := "烧烤店（新）"
			if _, err := w.s.UpdateMerchant(ctx, admin, m.ID, MerchantInput{Name: &name}); err != nil {
				t.Fatal(err)
			}
			if p := scan(); p.Name != name {
				t.Errorf("after a rename on the other instance: name %q, want %q", p.Name, name)
			}
			if _, err := w.s.ReissuePlaque(ctx, admin, m.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := other.ProfileByToken(ctx, token); ErrorCode(err) != CodeNotFound {
				t.Errorf("the replaced plaque on the other instance: err %v, want not found", err)
			}
		})
	}
}
