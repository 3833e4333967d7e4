package ratelimit

import (
	"context"
	"time"
)

// Limit is a token bucket per key: N actions, one of them back every
// Window/N, so a key that waited a whole Window may act N times at once.
type Limit struct {
	Name   string // names the limit's keys in a shared store; unique among limits
	N      int
	Window time.Duration
}

// Per is how long one action takes to come back.
func (l Limit) Per() time.Duration { return l.Window / time.Duration(l.N) }

// Key is the bucket of one key (id) of a limit.
func (l Limit) Key(id string) Key { return Key{Limit: l, ID: id} }

// Key names one bucket: a limit and the key it is kept for.
type Key struct {
	Limit Limit
	ID    string
}

// Limiter keeps the buckets. Both methods look at every key given, all or
// nothing, and return how long until every one of their buckets holds an
// action (0: now). An error means the store failed: nothing was taken.
type Limiter interface {
	// Take takes one action from every bucket when each holds one; else it
	// takes none and returns the wait (> 0).
	Take(ctx context.Context, now time.Time, keys ...Key) (time.Duration, error)
	// Wait takes nothing: the wait Take would return.
	Wait(ctx context.Context, now time.Time, keys ...Key) (time.Duration, error)
}
