package web_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service"
)

// fileAppeal files the shop's appeal of entry with one photo of its own, at
// the clock's time, and returns the appeal's id and the photo's.
func (e *env) fileAppeal(shop service.Actor, entry int64, reason string, seed int) (int64, int64) {
	e.t.Helper()
	ctx := context.Background()
	ph, err := e.svc.UploadPhoto(ctx, shop, bytes.NewReader(tinyPNG(seed)))
	if err != nil {
		e.t.Fatal(err)
	}
	ap, err := e.svc.FileAppeal(ctx, shop, shop.MerchantID, entry, reason, ph.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ap.ID, ph.ID
}

// liveScore is a merchant's score of the current cycle, as the service says.
func (e *env) liveScore(admin service.Actor, merchant int64) int {
	e.t.Helper()
	_, res, err := e.svc.Ledger(context.Background(), admin, merchant, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Score
}

// TestConsoleAppeals: the queue lists pending appeals overdue first, then by
// deadline, each with the entry, the officer, the evidence and the
// merchant's reason and photo; accepting reverses the deduction (the score
// moves as the service says); rejecting without a note stores nothing and
// says so beside the field; other counties see and decide nothing.
func TestConsoleAppeals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			w := e.seed()
			shanghai := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour-8, 0, 0, 0, time.UTC) }
			// The shops were registered on 1 November (seeded on the 15th), so
			// records of earlier days are not refused as dated before them.
			if _, err := e.db.SQL().Exec("UPDATE merchants SET created_at = ?", shanghai(1, 8)); err != nil {
				t.Fatal(err)
			}
			// Appeal A: deduction 1 Nov, appealed 2 Nov → due 22 Nov. Appeal B:
			// deduction 9 Nov, appealed 10 Nov → due 30 Nov.
			e.clock.Set(shanghai(1, 10))
			entryA := e.record(w.Officer[0], w.Merchant[0], "HJWS-02", 4)
			e.clock.Set(shanghai(2, 10))
			appealA, photoA := e.fileAppeal(w.Shop[0], entryA, "垃圾是路人丢的，我们随即清理了", 9001)
			e.clock.Set(shanghai(9, 10))
			entryB := e.record(w.Officer[0], w.Merchant[0], "SRZJ-02", 2)
			e.clock.Set(shanghai(10, 9))
			appealB, _ := e.fileAppeal(w.Shop[0], entryB, "衣物是临时晾晒，已收回", 9002)
			// The other county's appeal.
			entryC := e.record(w.Officer[1], w.Merchant[1], "HJWS-01", 2)
			appealC, _ := e.fileAppeal(w.Shop[1], entryC, "已清扫", 9003)
			e.clock.Set(shanghai(23, 10)) // A is overdue, B is not
			evidence, err := e.svc.LedgerEntryOf(ctx, w.Admin[0], w.Merchant[0], entryA)
			if err != nil || len(evidence.Photos) != 1 {
				t.Fatalf("entry A: %v, photos %v", err, evidence.Photos)
			}

			admin := e.signedIn(w.AdminName[0])
			p := admin.get("/console/appeals")
			if p.Status != http.StatusOK {
				t.Fatalf("queue: %d %s", p.Status, p.Body)
			}
			a, b := strings.Index(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealA)), strings.Index(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealB))
			if a < 0 || b < 0 || a > b {
				t.Fatalf("queue order: A at %d, B at %d; want the overdue A first", a, b)
			}
			cardA := p.Body[a:b]
			for _, want := range []string{
				"张记烧烤张店区", "柳泉路", "垃圾外溢、乱倒污水", "−4 分", "王巡查张店区", "2026年11月1日 10:00", // the entry and its officer
				"已逾期", "2026年11月22日 10:00", // the deadline, passed
				"垃圾是路人丢的，我们随即清理了",                                                                                      // the merchant's reason
				fmt.Sprintf(`<img src="/photos/%d"`, evidence.Photos[0]), fmt.Sprintf(`<img src="/photos/%d"`, photoA), // both sides' photos
			} {
				if !strings.Contains(cardA, want) {
					t.Errorf("appeal A's card lacks %q", want)
				}
			}
			if cardB := p.Body[b:]; strings.Contains(cardB[:strings.Index(cardB, "</section>")], "已逾期") ||
				!strings.Contains(cardB, "2026年11月30日 09:00") {
				t.Errorf("appeal B is marked overdue or lacks its deadline")
			}
			if !strings.Contains(p.Body, "待处理 <strong>2</strong> 件，其中 <strong class=\"warn\">1</strong> 件已超过处理期限") {
				t.Errorf("the queue's summary does not count 2 pending, 1 overdue")
			}
			hidden(t, "the queue", p, "张记烧烤淄川区", "已清扫")
			for _, ph := range []int64{evidence.Photos[0], photoA} { // the county admin may see both sides' photos
				if p := admin.get(fmt.Sprintf("/photos/%d", ph)); p.Status != http.StatusOK {
					t.Errorf("photo %d: %d", ph, p.Status)
				}
			}

			// Rejecting without a note: nothing stored, the problem beside the field.
			snap := e.snapshot()
			p = admin.post(fmt.Sprintf("/console/appeals/%d/decision", appealB), url.Values{"decision": {"reject"}, "note": {"  "}})
			if p.Status != http.StatusBadRequest {
				t.Errorf("rejecting without a note: %d, want 400", p.Status)
			}
			if after := e.snapshot(); !maps.Equal(snap, after) {
				t.Errorf("rejecting without a note stored something: %v → %v", snap, after)
			}
			if !strings.Contains(p.Body, fmt.Sprintf(`<p class="err" id="note-err-%d">处理意见：必填（驳回申诉须写明理由）</p>`, appealB)) ||
				!strings.Contains(p.Body, fmt.Sprintf(`aria-describedby="note-err-%d"`, appealB)) {
				t.Errorf("the note's problem is not beside the field")
			}

			// Accepting A reverses its deduction: the score rises by 4, as the service says.
			before := e.liveScore(w.Admin[0], w.Merchant[0])
			p = admin.post(fmt.Sprintf("/console/appeals/%d/decision", appealA), url.Values{"decision": {"accept"}, "note": {"现场为路人丢弃"}})
			if p.Status != http.StatusSeeOther {
				t.Fatalf("accepting: %d %s", p.Status, p.Body)
			}
			after := e.liveScore(w.Admin[0], w.Merchant[0])
			if before != 94 || after != 98 {
				t.Errorf("score %d → %d, want 94 → 98 (the 4 points reversed)", before, after)
			}
			aps, _, err := e.svc.Appeals(ctx, w.Admin[0], service.AppealFilter{Status: "accepted"})
			if err != nil || len(aps) != 1 || aps[0].ID != appealA || aps[0].DecisionNote != "现场为路人丢弃" {
				t.Errorf("accepted appeals %+v, %v", aps, err)
			}
			entry, _ := e.svc.LedgerEntryOf(ctx, w.Admin[0], w.Merchant[0], entryA)
			if entry.ReversedBy == nil {
				t.Errorf("the accepted appeal's entry is not reversed")
			}
			p = admin.get(p.Header.Get("Location"))
			if !strings.Contains(p.Body, "申诉成立，扣分已冲正") || strings.Contains(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealA)) {
				t.Errorf("after accepting: no confirmation, or A still pending")
			}
			// Deciding it again is a conflict, and stores nothing.
			other := e.signedIn(w.AdminName[1])
			snap = e.snapshot()
			if p := admin.post(fmt.Sprintf("/console/appeals/%d/decision", appealA), url.Values{"decision": {"reject"}, "note": {"再议"}}); p.Status != http.StatusConflict {
				t.Errorf("deciding twice: %d, want 409", p.Status)
			}
			// Another county's admin cannot decide B, nor see it.
			p = other.get("/console/appeals")
			hidden(t, "the other county's queue", p, "张记烧烤张店区", "衣物是临时晾晒")
			if !strings.Contains(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealC)) {
				t.Errorf("the other county's queue lacks its own appeal")
			}
			p = other.post(fmt.Sprintf("/console/appeals/%d/decision", appealB), url.Values{"decision": {"accept"}})
			if p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
				t.Errorf("another county deciding B: %d, want 404", p.Status)
			}
			hidden(t, "another county deciding B", p, "张记烧烤张店区")
			if after := e.snapshot(); !maps.Equal(snap, after) {
				t.Errorf("refused decisions stored something: %v → %v", snap, after)
			}

			// Rejecting B with a note keeps the score; the decided tab lists both.
			before = e.liveScore(w.Admin[0], w.Merchant[0])
			if p := admin.post(fmt.Sprintf("/console/appeals/%d/decision", appealB), url.Values{"decision": {"reject"}, "note": {"照片显示衣物晾在店外"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("rejecting with a note: %d", p.Status)
			}
			if after := e.liveScore(w.Admin[0], w.Merchant[0]); after != before {
				t.Errorf("rejecting moved the score %d → %d", before, after)
			}
			p = admin.get("/console/appeals?status=rejected")
			if !strings.Contains(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealB)) || !strings.Contains(p.Body, "处理意见：照片显示衣物晾在店外") {
				t.Errorf("the rejected tab lacks B with its note")
			}
			p = admin.get("/console/appeals?status=accepted")
			if !strings.Contains(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealA)) || strings.Contains(p.Body, fmt.Sprintf(`id="appeal-%d"`, appealB)) {
				t.Errorf("the accepted tab does not list exactly A")
			}
			if p := admin.get("/console/appeals"); !strings.Contains(p.Body, "没有待处理的申诉") {
				t.Errorf("the queue is not empty after deciding both")
			}
		})
	}
}
