package ratelimit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Fallback asks a shared Limiter and, while that fails, a local one: an
// outage of the shared store must neither refuse every action nor let every
// one through. An outage is logged once (WARN) when it starts and once (INFO)
// when the store answers again; meanwhile the shared store is tried again at
// most once a second, so a hanging server slows few requests.
type Fallback struct {
	shared, local Limiter
	log           *slog.Logger
	retry         time.Duration
	skipUntil     atomic.Int64 // unix ns until which the shared store is not asked
	down          atomic.Bool
}

// NewFallback returns a Limiter over shared that falls back to local.
func NewFallback(shared, local Limiter, log *slog.Logger) *Fallback {
	if log == nil {
		log = slog.Default()
	}
	return &Fallback{shared: shared, local: local, log: log, retry: time.Second}
}

// Take implements Limiter.
func (f *Fallback) Take(ctx context.Context, now time.Time, keys ...Key) (time.Duration, error) {
	return f.either(ctx, func(l Limiter) (time.Duration, error) { return l.Take(ctx, now, keys...) })
}

// Wait implements Limiter.
func (f *Fallback) Wait(ctx context.Context, now time.Time, keys ...Key) (time.Duration, error) {
	return f.either(ctx, func(l Limiter) (time.Duration, error) { return l.Wait(ctx, now, keys...) })
}

func (f *Fallback) either(ctx context.Context, op func(Limiter) (time.Duration, error)) (time.Duration, error) {
	if time.Now().UnixNano() >= f.skipUntil.Load() {
		wait, err := op(f.shared)
		if err == nil {
			if f.down.Swap(false) {
				f.log.Info("rate limits: the shared store answers again; limits are shared by every instance")
			}
			return wait, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err() // the caller left: no outage
		}
		f.skipUntil.Store(time.Now().Add(f.retry).UnixNano())
		if !f.down.Swap(true) {
			f.log.Warn("rate limits: the shared store failed; limiting in this instance's memory until it answers", "err", err)
		}
	}
	return op(f.local)
}
