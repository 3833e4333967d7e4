package httpapi_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/menqian/menqian/models/dbtest"
)

// photoOfOtherShop is the field error for a photo that already documents
// another shop.
const photoOfOtherShop = "照片已是其他商户的证据，不能用于本商户"

// boundTo returns the shop a photo is evidence of (0: none yet).
func (e *env) boundTo(photo int64) int64 {
	e.t.Helper()
	var shop *int64
	if err := e.db.SQL().QueryRow("SELECT merchant_id FROM photos WHERE id = ?", photo).Scan(&shop); err != nil {
		e.t.Fatal(err)
	}
	if shop == nil {
		return 0
	}
	return *shop
}

// refusedPhotos checks that r is 400 with want on photos and that nothing
// was stored.
func (e *env) refusedPhotos(what string, r resp, before map[string]int64, want string) {
	e.t.Helper()
	fields, _ := r.JSON["error"].(map[string]any)["fields"].(map[string]any)
	if r.Status != 400 || fields["photos"] != want {
		e.t.Errorf("%s: %d %s, want 400 with photos: %s", what, r.Status, r.Body, want)
	}
	if got := e.snapshot(); !reflect.DeepEqual(got, before) {
		e.t.Errorf("%s changed data: %v → %v", what, before, got)
	}
}

// TestEvidencePhotoOneShop (issue 16, defect 12): a photo is evidence of the
// shop it was first used for (an inspection or a notice) and of no other, so
// no merchant sees another shop's photo as evidence against it; a merchant's
// own upload is its shop's from the start, and its appeals take only photos
// of its shop.
func TestEvidencePhotoOneShop(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			off := w.Officer[0]
			a, b := w.Merchant[0], e.newMerchant(w.Admin[0], w.Road[0], "李记面馆")
			e.must(201, "POST", "/api/v1/users", w.Admin[0], map[string]any{"username": "shop_b", "password": "password-shop-b",
				"role": "merchant", "merchant_id": b})
			shopB := e.login("shop_b", "password-shop-b")
			photo := w.Photo[0]
			if got := e.boundTo(photo); got != 0 {
				t.Fatalf("a new upload is evidence of shop %d", got)
			}

			e.must(201, "POST", "/api/v1/inspections", off, inspection(a, []int64{photo}, item("HJWS-01")), "Idempotency-Key", "a-1")
			if got := e.boundTo(photo); got != a {
				t.Errorf("after the inspection of shop %d the photo is evidence of %d", a, got)
			}
			before := e.snapshot()
			e.refusedPhotos("the photo again, for another shop", e.inspect(off, "b-1", inspection(b, []int64{photo}, item("HJWS-01"))), before, photoOfOtherShop)
			e.refusedPhotos("a notice on another shop with it", e.do("POST", fmt.Sprintf("/api/v1/merchants/%d/notices", b), off,
				map[string]any{"rule_code": "SRZJ-01", "photos": []int64{photo}}), before, photoOfOtherShop)
			if r := e.do("GET", "/api/v1/photos/"+itoa(photo), shopB, nil); r.Status != 404 {
				t.Errorf("the other shop's merchant sees the photo: %d", r.Status)
			}
			// The same shop may use it again.
			e.must(201, "POST", "/api/v1/inspections", off, inspection(a, []int64{photo}, item("HJWS-02")), "Idempotency-Key", "a-2")
			e.must(201, "POST", fmt.Sprintf("/api/v1/merchants/%d/notices", a), off, map[string]any{"rule_code": "SRZJ-01", "photos": []int64{photo}})

			// A notice binds as an inspection does.
			fresh := e.uploadPhoto(off, tinyPNG(50)).id()
			e.must(201, "POST", fmt.Sprintf("/api/v1/merchants/%d/notices", b), off, map[string]any{"rule_code": "SRZJ-01", "photos": []int64{fresh}})
			if got := e.boundTo(fresh); got != b {
				t.Errorf("after the notice on shop %d the photo is evidence of %d", b, got)
			}
			before = e.snapshot()
			e.refusedPhotos("a photo of a notice on another shop", e.inspect(off, "a-3", inspection(a, []int64{fresh}, item("HJWS-01"))), before, photoOfOtherShop)
			// Refused as a whole: the new photo beside it is not bound.
			another := e.uploadPhoto(off, tinyPNG(51)).id()
			before = e.snapshot()
			e.refusedPhotos("with a new photo beside it", e.inspect(off, "a-4", inspection(a, []int64{another, fresh}, item("HJWS-01"))), before, photoOfOtherShop)
			if got := e.boundTo(another); got != 0 {
				t.Errorf("a refused inspection bound its new photo to shop %d", got)
			}

			// A merchant's upload is its own shop's.
			own := e.uploadPhoto(w.Shop[0], tinyPNG(52)).id()
			if got := e.boundTo(own); got != a {
				t.Errorf("merchant %d's upload is evidence of %d", a, got)
			}
			before = e.snapshot()
			e.refusedPhotos("a merchant's photo for another shop", e.inspect(off, "b-2", inspection(b, []int64{own}, item("HJWS-01"))), before, photoOfOtherShop)

			// An appeal names photos of its own shop only: one of its uploads
			// that is somehow another shop's evidence (bound before the
			// merchant's uploads were, say) is refused.
			e.must(201, "POST", "/api/v1/inspections", off, inspection(b, []int64{another}, item("HJWS-01")), "Idempotency-Key", "b-3")
			entry := e.entryIDs(shopB, b, "2026-11")
			mine := e.uploadPhoto(shopB, tinyPNG(53)).id()
			if _, err := e.db.SQL().Exec("UPDATE photos SET merchant_id = ? WHERE id = ?", a, mine); err != nil {
				t.Fatal(err)
			}
			path := fmt.Sprintf("/api/v1/merchants/%d/ledger/%d/appeal", b, entry[0])
			before = e.snapshot()
			r := e.do("POST", path, shopB, map[string]any{"reason": "路人乱丢", "photos": []int64{mine}})
			e.refusedPhotos("an appeal with another shop's photo", r, before, photoOfOtherShop)
			if n := e.count("appeals", "1=1"); n != 0 {
				t.Errorf("%d appeals stored", n)
			}
			e.must(201, "POST", path, shopB, map[string]any{"reason": "路人乱丢", "photos": []int64{e.uploadPhoto(shopB, tinyPNG(54)).id()}})
			e.checkClean()
		})
	}
}

// TestEvidencePhotoRace: two officers' inspections of two shops naming one
// new photo, sent at the same moment, record exactly one: the binding is
// decided under the photo's row lock in the recording transaction (on
// MariaDB, each request may run in its own batch, on its own connection).
func TestEvidencePhotoRace(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seeded()
			e.must(201, "POST", "/api/v1/users", w.Admin[0], map[string]any{"username": "officer_two", "password": "password-officer-2",
				"role": "officer", "county_id": w.County[0]})
			officers := [2]string{w.Officer[0], e.login("officer_two", "password-officer-2")}
			shops := [2]int64{w.Merchant[0], e.newMerchant(w.Admin[0], w.Road[0], "李记面馆")}
			const rounds = 12
			wins := [2]int{}
			for round := range rounds {
				photo := e.uploadPhoto(officers[0], tinyPNG(1000+round)).id()
				var got [2]resp
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						got[i] = e.inspect(officers[i], fmt.Sprintf("race-%d-%d", round, i), inspection(shops[i], []int64{photo}, item("HJWS-01")))
					}()
				}
				close(start)
				wg.Wait()
				won := -1
				for i, r := range got {
					switch {
					case r.Status == 201 && won < 0:
						won = i
					case r.Status == 400 && r.JSON["error"].(map[string]any)["fields"].(map[string]any)["photos"] == photoOfOtherShop:
					default:
						t.Errorf("round %d, shop %d: %d %s", round, i, r.Status, r.Body)
					}
				}
				if won < 0 {
					t.Fatalf("round %d: neither inspection was recorded: %s / %s", round, got[0].Body, got[1].Body)
				}
				wins[won]++
				if bound := e.boundTo(photo); bound != shops[won] {
					t.Errorf("round %d: the photo is evidence of %d, want %d (the recorded inspection's)", round, bound, shops[won])
				}
				if n := e.count("inspections", "photo_ids = ?", itoa(photo)); n != 1 {
					t.Errorf("round %d: %d inspections name the photo, want 1", round, n)
				}
			}
			t.Logf("%s: shop 0 won %d rounds, shop 1 %d", d, wins[0], wins[1])
			e.checkClean()
		})
	}
}
