package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/menqian/menqian/service/ratelimit"
)

// broken is a shared store that fails while down, and else refuses everything
// (so a test can tell which limiter answered).
type broken struct{ down atomic.Bool }

func (b *broken) Take(ctx context.Context, now time.Time, keys ...ratelimit.Key) (time.Duration, error) {
	return b.Wait(ctx, now, keys...)
}

func (b *broken) Wait(context.Context, time.Time, ...ratelimit.Key) (time.Duration, error) {
	if b.down.Load() {
		return 0, errors.New("connection refused")
	}
	return time.Hour, nil
}

// While the shared store fails, the limits hold in memory (neither every
// action refused nor every one let through), the outage is logged once, and
// its end once.
func TestFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var log bytes.Buffer
	shared := &broken{}
	f := ratelimit.NewFallback(shared, ratelimit.NewMemory(100), slog.New(slog.NewTextHandler(&log, nil)))
	ratelimit.SetRetry(f, 0)
	two := ratelimit.Limit{Name: "two", N: 2, Window: time.Hour}
	now := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	take := func() time.Duration {
		t.Helper()
		wait, err := f.Take(ctx, now, two.Key("a"))
		if err != nil {
			t.Fatalf("take: %v, want the memory's answer", err)
		}
		return wait
	}

	if got := take(); got != time.Hour {
		t.Fatalf("shared store up: wait %v, want its answer (1h)", got)
	}
	shared.down.Store(true)
	if got := []time.Duration{take(), take(), take()}; got[0] != 0 || got[1] != 0 || got[2] != 30*time.Minute {
		t.Errorf("shared store down: waits %v, want [0 0 30m] from memory", got)
	}
	if n := strings.Count(log.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, log.String())
	}
	shared.down.Store(false)
	take()
	take()
	if n := strings.Count(log.String(), "level=INFO"); n != 1 || strings.Count(log.String(), "level=WARN") != 1 {
		t.Errorf("after the outage: want one WARN and one INFO:\n%s", log.String())
	}
	// While the store is found down, it is asked again only after the retry interval.
	shared.down.Store(true)
	ratelimit.SetRetry(f, time.Hour)
	take()
	shared.down.Store(false)
	if got := take(); got != 30*time.Minute {
		t.Errorf("within the retry interval: wait %v, want the memory's 30m", got)
	}
}
