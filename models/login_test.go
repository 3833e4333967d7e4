package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
)

// TestLoginFailures: failures are kept to the millisecond in UTC whatever the
// caller's zone, read back oldest first after an exclusive bound, pruned by
// age for every username when one is recorded, and cleared per username.
func TestLoginFailures(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
			cst := time.FixedZone("CST", 8*3600)
			record := func(user string, at, windowStart time.Time) {
				t.Helper()
				if err := db.RecordLoginFailure(ctx, user, at, windowStart); err != nil {
					t.Fatal(err)
				}
			}
			after := func(user string, from time.Time) []time.Time {
				t.Helper()
				got, err := db.LoginFailuresAfter(ctx, user, from)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			same := func(got, want []time.Time) bool {
				if len(got) != len(want) {
					return false
				}
				for i := range got {
					if !got[i].Equal(want[i]) || got[i].Location() != time.UTC {
						return false
					}
				}
				return true
			}
			old := t0.Add(-time.Hour)
			// Recorded out of order, one in another zone, one with microseconds.
			record("alice", t0.Add(2*time.Minute).In(cst), old)
			record("alice", t0, old)
			record("alice", t0.Add(time.Minute+1234567*time.Nanosecond), old)
			record("bob", t0.Add(time.Minute), old)
			want := []time.Time{t0, t0.Add(time.Minute + time.Millisecond), t0.Add(2 * time.Minute)}
			if got := after("alice", old); !same(got, want) {
				t.Errorf("alice's failures = %v, want %v in UTC", got, want)
			}
			if got := after("alice", t0.In(cst)); !same(got, want[1:]) {
				t.Errorf("failures after %v = %v, want %v (the bound excluded)", t0, got, want[1:])
			}
			if got := after("carol", old); len(got) != 0 {
				t.Errorf("carol's failures = %v, want none", got)
			}

			// A failure recorded with the window starting at +1m deletes
			// every username's failures at or before it, and no later one.
			record("carol", t0.Add(3*time.Minute), t0.Add(time.Minute).In(cst))
			if got, want := after("alice", old), want[1:]; !same(got, want) {
				t.Errorf("alice's failures after pruning = %v, want %v", got, want)
			}
			if got := after("bob", old); len(got) != 0 {
				t.Errorf("bob's failure at the window start survived pruning: %v", got)
			}

			if err := db.ClearLoginFailures(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if got := after("alice", old); len(got) != 0 {
				t.Errorf("alice's failures after clearing = %v", got)
			}
			if got, want := after("carol", old), []time.Time{t0.Add(3 * time.Minute)}; !same(got, want) {
				t.Errorf("clearing alice cleared carol: %v, want %v", got, want)
			}
		})
	}
}
