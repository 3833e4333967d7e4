package models_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestConcurrentTransactions: many writers on one score row serialise, on
// every dialect, without SQLITE_BUSY or lost updates.
func TestConcurrentTransactions(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			exec := func(ctx context.Context, q string, args ...any) error {
				_, err := db.SQL().ExecContext(ctx, q, args...)
				return err
			}
			for _, q := range []string{
				"INSERT INTO counties (code, name, demo_road_target, created_at, updated_at) VALUES ('370303', 'x', 10, '2026-01-01', '2026-01-01')",
				"INSERT INTO roads (county_id, name, created_at, updated_at) VALUES (1, 'r', '2026-01-01', '2026-01-01')",
				"INSERT INTO merchants (code, county_id, road_id, name, created_at, updated_at) VALUES ('AAAAAAAA', 1, 1, 'm', '2026-01-01', '2026-01-01')",
			} {
				if err := exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.EnsureScoreRow(ctx, 1, "2026-11", 100); err != nil {
				t.Fatal(err)
			}
			const n = 40
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					errs <- db.InTx(ctx, func(ctx context.Context) error {
						lock, err := db.LockForRecord(ctx, 1, []string{"2026-11", "2026-10"}, nil)
						if err != nil {
							return err
						}
						s := lock.Scores[0]
						s.Deductions++
						s.Entries++
						return db.SetScores(ctx, []models.Score{s})
					})
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			rows, _ := db.ScoresOf(ctx, []int64{1}, []string{"2026-11"})
			if got := fmt.Sprint(rows[0].Deductions, rows[0].Entries); got != fmt.Sprint(n, n) {
				t.Errorf("deductions, entries = %s, want %d %d", got, n, n)
			}
		})
	}
}
