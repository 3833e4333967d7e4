// Package ratelimittest holds the behaviour every ratelimit.Limiter must
// have, as a test run against each implementation.
package ratelimittest

import (
	"context"
	"testing"
	"time"

	"github.com/menqian/menqian/service/ratelimit"
)

// Run checks l, which must be empty (no bucket used yet), on a clock of its own.
func Run(t *testing.T, l ratelimit.Limiter) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	three := ratelimit.Limit{Name: "three", N: 3, Window: 3 * time.Minute} // one back a minute
	one := ratelimit.Limit{Name: "one", N: 1, Window: time.Hour}
	check := func(what string, got time.Duration, err error, want time.Duration) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Fatalf("%s: wait %v, want %v", what, got, want)
		}
	}
	take := func(what string, want time.Duration, keys ...ratelimit.Key) {
		t.Helper()
		got, err := l.Take(ctx, now, keys...)
		check("take "+what, got, err, want)
	}
	look := func(what string, want time.Duration, keys ...ratelimit.Key) {
		t.Helper()
		got, err := l.Wait(ctx, now, keys...)
		check("wait "+what, got, err, want)
	}

	// Looking takes nothing.
	for range 5 {
		look("a fresh key", 0, three.Key("x"))
	}
	// A full bucket gives N at once, then one a minute.
	for i := range 3 {
		take("x #"+string(rune('1'+i)), 0, three.Key("x"))
	}
	take("x #4", time.Minute, three.Key("x"))
	look("x, empty", time.Minute, three.Key("x"))
	// Other keys, and the same id in another limit, have buckets of their own.
	take("y", 0, three.Key("y"))
	take("x of another limit", 0, one.Key("x"))
	now = now.Add(30 * time.Second)
	take("x half a minute later", 30*time.Second, three.Key("x"))
	now = now.Add(30 * time.Second)
	take("x a minute later", 0, three.Key("x"))
	take("x again", time.Minute, three.Key("x"))

	// All or nothing: a refused key leaves the others' buckets as they were.
	take("z in both limits", 0, three.Key("z"), one.Key("z"))
	take("z in both limits again", time.Hour, three.Key("z"), one.Key("z"))
	look("z in both limits", time.Hour, one.Key("z"), three.Key("z"))
	take("z #2 alone", 0, three.Key("z"))
	take("z #3 alone", 0, three.Key("z"))
	take("z #4 alone", time.Minute, three.Key("z"))

	// A bucket left alone for its window is full again.
	now = now.Add(3 * time.Minute)
	for i := range 3 {
		take("x refilled #"+string(rune('1'+i)), 0, three.Key("x"))
	}
	take("x refilled #4", time.Minute, three.Key("x"))
}
