package service

import (
	"context"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard"
)

// TestBoardMemo: readers of an unchanged page share its lines, and a change
// of a listed merchant's rated star that leaves the page's entries as they
// were (its previous cycle's final score fell) shows on the very next read.
func TestBoardMemo(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			w := newBatchWorld(t, d)
			ctx := context.Background()
			m, err := w.db.MerchantByID(ctx, w.open)
			if err != nil {
				t.Fatal(err)
			}
			prev := w.cycle.Prev().String()
			// The shop opened two cycles ago and ended the last one at 100.
			if _, err := w.db.SQL().Exec(`UPDATE merchants SET created_at = ? WHERE id = ?`, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), m.ID); err != nil {
				t.Fatal(err)
			}
			if err := w.db.EnsureScoreRow(ctx, m.ID, prev, w.s.policy.BaseScore); err != nil {
				t.Fatal(err)
			}
			q := BoardQuery{Scope: leaderboard.County, ID: m.CountyID}
			star := func(p BoardPage) int {
				t.Helper()
				for _, it := range p.Items {
					if it.MerchantID == m.ID {
						return it.RatedStar
					}
				}
				t.Fatalf("merchant %d not on the page %+v", m.ID, p.Items)
				return 0
			}
			first, err := w.s.MerchantBoard(ctx, w.officer, q)
			if err != nil {
				t.Fatal(err)
			}
			second, err := w.s.MerchantBoard(ctx, w.officer, q)
			if err != nil {
				t.Fatal(err)
			}
			if star(first) != 5 || star(second) != 5 {
				t.Fatalf("rated star %d then %d, want 5", star(first), star(second))
			}
			if &first.Items[0] != &second.Items[0] {
				t.Error("two reads of an unchanged page did not share its lines")
			}

			// The last cycle's final score drops to 60 (a late correction of
			// that cycle): this cycle's entries stay the same.
			if _, err := w.db.SQL().Exec(`UPDATE scores SET score = 60, deductions = 40 WHERE merchant_id = ? AND cycle = ?`, m.ID, prev); err != nil {
				t.Fatal(err)
			}
			w.s.scores.ScoreChanged(ctx, m, prev, 60, -1)
			third, err := w.s.MerchantBoard(ctx, w.officer, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := w.s.policy.Star(60); star(third) != want || want == 5 {
				t.Errorf("rated star after the last cycle fell to 60: %d, want %d", star(third), want)
			}
			if &third.Items[0] == &second.Items[0] {
				t.Error("the page after a star changed is the page from before")
			}
		})
	}
}
