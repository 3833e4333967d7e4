package service

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/png"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// TestRecorderQueues: while every lane is busy, recordings queue and the
// next batch takes them all (up to maxBatch); no more than lanes batches run
// at once and every recording is finished exactly once.
func TestRecorderQueues(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	var running, most atomic.Int32
	first := true
	var q *recorder
	q = newRecorder(2, 4, func(batch []*recording) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		mu.Lock()
		sizes = append(sizes, len(batch))
		hold := first
		first = false
		mu.Unlock()
		if hold {
			<-release
		}
		for _, r := range batch {
			r.result.ID++ // finished once: a second finish would make it 2
			close(r.done)
		}
		running.Add(-1)
	})
	rs := make([]*recording, 11)
	var wg sync.WaitGroup
	record := func(i int) {
		defer wg.Done()
		rs[i] = &recording{ctx: context.Background(), done: make(chan struct{})}
		q.record(rs[i])
	}
	wg.Add(1)
	go record(0)
	for { // the first batch is running and held
		mu.Lock()
		started := len(sizes) == 1
		mu.Unlock()
		if started {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// The second lane takes whatever it finds; hold it back by filling the
	// queue while the first lane is blocked: the queue is drained by the
	// second lane in batches of at most 4.
	for i := 1; i < len(rs); i++ {
		wg.Add(1)
		go record(i)
	}
	for { // everything but the held recording is done
		mu.Lock()
		total := 0
		for _, n := range sizes[1:] {
			total += n
		}
		mu.Unlock()
		if total == len(rs)-1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, r := range rs {
		if r.result.ID != 1 {
			t.Errorf("recording %d finished %d times", i, r.result.ID)
		}
	}
	for _, n := range sizes {
		if n < 1 || n > 4 {
			t.Errorf("batch sizes %v: want 1..4", sizes)
		}
	}
	if most.Load() > 2 {
		t.Errorf("%d batches ran at once, want at most 2 lanes", most.Load())
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running != 0 || len(q.queue) != 0 {
		t.Errorf("after the run: %d lanes running, %d queued", q.running, len(q.queue))
	}
}

// batchWorld is a county with an officer, four shops (one closed, one with
// no score row yet), a shop of another county, an evidence photo of each
// shop of the first county (photo), one of the other county and one of no
// shop yet (spare).
type batchWorld struct {
	s                  *Service
	db                 *models.DB
	cycle              policy.Cycle
	officer            Actor
	open, busy, closed int64
	fresh, other       int64
	photo              map[int64]int64 // shop → its evidence photo
	otherPhoto, spare  int64
}

func newBatchWorld(t *testing.T, d models.Dialect) *batchWorld {
	t.Helper()
	db := dbtest.Open(t, d)
	ctx := context.Background()
	now := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	s := New(Options{DB: db, Policy: policy.Default(), Secret: []byte("test-secret-0123456789"), Photos: photostore.NewLocal(t.TempDir()),
		PublicURL: "http://mq.test", Clock: func() time.Time { return now }, PasswordCost: bcrypt.MinCost})
	if _, _, err := s.Bootstrap(ctx, "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	admin := Actor{UserID: 1, Username: "admin", Role: RoleCityAdmin}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &batchWorld{s: s, db: db, cycle: s.policy.CycleOf(now)}
	county := func(code, name string) (int64, int64, Actor) {
		c, err := s.CreateCounty(ctx, admin, CountyInput{Code: &code, Name: &name})
		must(err)
		road := "柳泉路"
		r, err := s.CreateRoad(ctx, admin, RoadInput{CountyID: &c.ID, Name: &road})
		must(err)
		u, err := s.CreateUser(ctx, admin, UserInput{Username: "officer" + code, Password: "officer-password-1", Role: RoleOfficer, CountyID: &c.ID})
		must(err)
		return c.ID, r.ID, Actor{UserID: u.ID, Username: u.Username, Role: RoleOfficer, CountyID: c.ID}
	}
	_, roadA, officerA := county("370303", "张店区")
	_, roadB, officerB := county("370302", "淄川区")
	w.officer = officerA
	shop := func(road int64, name string) int64 {
		m, err := s.CreateMerchant(ctx, admin, MerchantInput{RoadID: &road, Name: &name})
		must(err)
		return m.ID
	}
	w.open, w.busy, w.closed, w.fresh = shop(roadA, "烧烤店"), shop(roadA, "水果店"), shop(roadA, "五金店"), shop(roadA, "新开的店")
	w.other = shop(roadB, "面馆")
	closed := "closed"
	_, err := s.UpdateMerchant(ctx, admin, w.closed, MerchantInput{Status: &closed})
	must(err)
	for _, id := range []int64{w.open, w.busy, w.other} {
		must(db.EnsureScoreRow(ctx, id, w.cycle.String(), s.policy.BaseScore))
	}
	photo := func(a Actor, shade uint8) int64 {
		img := image.NewGray(image.Rect(0, 0, 4, 4))
		img.Pix[0] = shade
		var buf bytes.Buffer
		must(png.Encode(&buf, img))
		p, err := s.UploadPhoto(ctx, a, &buf)
		must(err)
		return p.ID
	}
	w.photo = map[int64]int64{w.open: photo(officerA, 1), w.busy: photo(officerA, 3), w.closed: photo(officerA, 4), w.fresh: photo(officerA, 5)}
	w.otherPhoto, w.spare = photo(officerB, 2), photo(officerA, 6)
	return w
}

// prepare makes the recording RecordInspection would queue.
func (w *batchWorld) prepare(t *testing.T, a Actor, key string, merchant int64, photos []int64, items ...InspectionItem) *recording {
	t.Helper()
	in := InspectionInput{MerchantID: merchant, Items: items, Photos: photos}
	r, err := w.s.prepareRecording(context.Background(), a, key, "hash-"+key, in)
	if err != nil {
		t.Fatalf("prepare %s: %v", key, err)
	}
	return r
}

func item(code string, points int) InspectionItem {
	return InspectionItem{RuleCode: code, Points: &points}
}

// TestRecordBatch: one batch of mixed inspections: each is decided on its
// own, in order, on the state the earlier ones left; refused ones change
// nothing; a shop without a score row gets one and is recorded; ledger,
// scores and inspections agree, on both dialects.
func TestRecordBatch(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newBatchWorld(t, d)
			ctx := context.Background()
			a := w.officer
			batch := []*recording{
				w.prepare(t, a, "k1", w.open, []int64{w.photo[w.open]}, item("HJWS-02", 5)),
				w.prepare(t, a, "k2", w.busy, []int64{w.otherPhoto}, item("HJWS-01", 2)),        // photo of another county
				w.prepare(t, a, "k3", w.open, []int64{w.photo[w.open]}, item("HJWS-01", 3)),     // same shop again: sees k1
				w.prepare(t, a, "k4", w.closed, []int64{w.photo[w.closed]}, item("HJWS-01", 1)), // closed shop
				w.prepare(t, a, "k5", w.other, []int64{w.photo[w.open]}, item("HJWS-01", 1)),    // another county's shop
				w.prepare(t, a, "k6", w.fresh, []int64{w.photo[w.fresh]}, item("HJWS-02", 4)),   // no score row yet
				w.prepare(t, a, "k7", w.busy, []int64{w.photo[w.busy], w.spare}, item("HJWS-01", 2), item("HJWS-02", 2)),
				w.prepare(t, a, "k8", w.busy, []int64{w.photo[w.open]}, item("HJWS-01", 1)),    // the open shop's evidence since k1
				w.prepare(t, a, "k9", w.open, []int64{w.spare}, item("HJWS-01", 1)),            // the busy shop's evidence since k7
				w.prepare(t, a, "k10", w.busy, []int64{w.photo[w.closed]}, item("HJWS-01", 1)), // k4 was refused: still no shop's
			}
			w.s.recordBatch(batch)
			wantScore := map[string]int{"k1": 95, "k3": 92, "k6": 96, "k7": 96, "k10": 95}
			wantErr := map[string]string{"k2": CodeInvalid, "k4": CodeConflict, "k5": CodeNotFound, "k8": CodeInvalid, "k9": CodeInvalid}
			ids := map[int64]bool{}
			for i, r := range batch {
				key := fmt.Sprintf("k%d", i+1)
				if code, bad := wantErr[key]; bad {
					var e *Error
					if !errors.As(r.err, &e) || e.Code != code {
						t.Errorf("%s: err %v, want code %s", key, r.err, code)
					}
					continue
				}
				if r.err != nil {
					t.Errorf("%s: %v", key, r.err)
					continue
				}
				if r.result.Score.Score != wantScore[key] || r.result.ID == 0 || ids[r.result.ID] {
					t.Errorf("%s: id %d score %d, want a new id and score %d", key, r.result.ID, r.result.Score.Score, wantScore[key])
				}
				ids[r.result.ID] = true
				// The stored inspection is the one answered, under its key.
				got, err := w.db.InspectionByKey(ctx, a.UserID, key)
				if err != nil || got.ID != r.result.ID || got.MerchantID != r.merchantID {
					t.Errorf("%s: stored %+v, %v", key, got, err)
				}
				entries, err := w.db.LedgerOfInspections(ctx, []int64{r.result.ID})
				if err != nil || len(entries) != len(r.entries) {
					t.Errorf("%s: %d ledger entries (%v), want %d", key, len(entries), err, len(r.entries))
				}
				for _, e := range entries {
					if e.MerchantID != r.merchantID {
						t.Errorf("%s: entry %d of merchant %d, want %d", key, e.ID, e.MerchantID, r.merchantID)
					}
				}
			}
			scores, err := w.db.ScoresOf(ctx, []int64{w.open, w.busy, w.closed, w.fresh, w.other}, []string{w.cycle.String()})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]string{}
			for _, sc := range scores {
				got[sc.MerchantID] = fmt.Sprintf("%d/%d/%d", sc.Score, sc.Deductions, sc.Entries)
			}
			want := map[int64]string{w.open: "92/8/2", w.busy: "95/5/3", w.fresh: "96/4/1", w.other: "100/0/0"}
			for id, wv := range want {
				if got[id] != wv {
					t.Errorf("merchant %d score/deductions/entries %s, want %s", id, got[id], wv)
				}
			}
			if _, ok := got[w.closed]; ok {
				t.Errorf("the closed shop got a score row: %s", got[w.closed])
			}
			// Each photo is bound to the shop of the first inspection that
			// named it and was recorded.
			wantBound := map[int64]int64{w.photo[w.open]: w.open, w.photo[w.busy]: w.busy, w.spare: w.busy,
				w.photo[w.fresh]: w.fresh, w.photo[w.closed]: w.busy, w.otherPhoto: 0}
			for photo, shop := range wantBound {
				var bound sql.NullInt64
				if err := w.db.SQL().QueryRow("SELECT merchant_id FROM photos WHERE id = ?", photo).Scan(&bound); err != nil || bound.Int64 != shop {
					t.Errorf("photo %d bound to %v (%v), want %d", photo, bound, err, shop)
				}
			}
			mism, _, err := w.s.Check(ctx)
			if err != nil || len(mism) != 0 {
				t.Errorf("check: %v %+v", err, mism)
			}
		})
	}
}

// TestRecordBatchFallsBack: a batch whose transaction fails as a whole (a key
// used twice) runs again one by one: the failure lands on the copy alone and
// everything else is recorded once.
func TestRecordBatchFallsBack(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newBatchWorld(t, d)
			ctx := context.Background()
			a := w.officer
			// An earlier inspection used key "old".
			open, busy := []int64{w.photo[w.open]}, []int64{w.photo[w.busy]}
			w.s.recordBatch([]*recording{w.prepare(t, a, "old", w.open, open, item("HJWS-01", 1))})
			batch := []*recording{
				w.prepare(t, a, "n1", w.open, open, item("HJWS-01", 2)),
				w.prepare(t, a, "old", w.busy, busy, item("HJWS-01", 2)), // reused key
				w.prepare(t, a, "n2", w.busy, busy, item("HJWS-01", 3)),
				w.prepare(t, a, "n3", w.open, open, item("HJWS-02", 4)),
				w.prepare(t, a, "n3", w.open, open, item("HJWS-02", 4)), // a copy in the same batch
			}
			w.s.recordBatch(batch)
			for i, r := range batch {
				dup := i == 1 || i == 4
				switch {
				case dup && !errors.Is(r.err, models.ErrDuplicate):
					t.Errorf("recording %d: err %v, want a duplicate key", i, r.err)
				case !dup && r.err != nil:
					t.Errorf("recording %d: %v", i, r.err)
				}
			}
			scores, _ := w.db.ScoresOf(ctx, []int64{w.open, w.busy}, []string{w.cycle.String()})
			got := map[int64]string{}
			for _, sc := range scores {
				got[sc.MerchantID] = fmt.Sprintf("%d/%d", sc.Score, sc.Entries)
			}
			if got[w.open] != "93/3" || got[w.busy] != "97/1" {
				t.Errorf("scores %v, want open 93/3 and busy 97/1", got)
			}
			if mism, _, err := w.s.Check(ctx); err != nil || len(mism) != 0 {
				t.Errorf("check: %v %+v", err, mism)
			}
		})
	}
}

// TestRecordInspectionsConcurrently: many officers' requests on a few shops
// at once go through the recorder's batches and end exact on both dialects.
func TestRecordInspectionsConcurrently(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newBatchWorld(t, d)
			ctx := context.Background()
			const n = 60
			shops := []int64{w.open, w.busy, w.fresh, w.closed}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					shop := shops[i%len(shops)]
					in := InspectionInput{MerchantID: shop, Photos: []int64{w.photo[shop]},
						Items: []InspectionItem{item("HJWS-01", 1)}}
					_, _, errs[i] = w.s.RecordInspection(ctx, w.officer, fmt.Sprintf("c%d", i), in)
				}(i)
			}
			wg.Wait()
			for i, err := range errs {
				closed := shops[i%len(shops)] == w.closed
				if closed != (err != nil) {
					t.Errorf("request %d (closed shop %v): %v", i, closed, err)
				}
			}
			scores, _ := w.db.ScoresOf(ctx, shops, []string{w.cycle.String()})
			for _, sc := range scores {
				if sc.Entries != n/len(shops) || sc.Score != 100-n/len(shops) {
					t.Errorf("merchant %d: %d entries, score %d; want %d and %d", sc.MerchantID, sc.Entries, sc.Score, n/len(shops), 100-n/len(shops))
				}
			}
			if len(scores) != 3 {
				t.Errorf("%d score rows, want 3 (not the closed shop)", len(scores))
			}
			if mism, _, err := w.s.Check(ctx); err != nil || len(mism) != 0 {
				t.Errorf("check: %v %+v", err, mism)
			}
		})
	}
}
