package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Memory is a Limiter in this instance's memory: behind a load balancer of n
// instances a key may act up to n times as often. It remembers at most
// maxKeys keys of each limit.
type Memory struct {
	mu      sync.Mutex
	maxKeys int
	limits  map[string]map[string]*bucket // limit name → key → bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewMemory returns an empty Memory that keeps up to maxKeys keys of each
// limit; past it, full buckets go first, then any.
func NewMemory(maxKeys int) *Memory {
	return &Memory{maxKeys: maxKeys, limits: map[string]map[string]*bucket{}}
}

// Take implements Limiter; it never fails.
func (m *Memory) Take(_ context.Context, now time.Time, keys ...Key) (time.Duration, error) {
	return m.take(now, true, keys), nil
}

// Wait implements Limiter; it never fails.
func (m *Memory) Wait(_ context.Context, now time.Time, keys ...Key) (time.Duration, error) {
	return m.take(now, false, keys), nil
}

func (m *Memory) take(now time.Time, take bool, keys []Key) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if lv := m.level(k, now); lv < 1 {
			wait = max(wait, time.Duration((1-lv)*float64(k.Limit.Per())))
		}
	}
	if wait > 0 || !take {
		return wait
	}
	for _, k := range keys {
		m.set(k, m.level(k, now)-1, now)
	}
	return 0
}

// level is the bucket's tokens at now (locked).
func (m *Memory) level(k Key, now time.Time) float64 {
	b, ok := m.limits[k.Limit.Name][k.ID]
	if !ok {
		return float64(k.Limit.N)
	}
	return math.Min(float64(k.Limit.N), b.tokens+float64(now.Sub(b.at))/float64(k.Limit.Per()))
}

// set stores the bucket's tokens at now, making room when the limit's map is
// full: first the buckets that refilled (as good as absent), then any.
func (m *Memory) set(k Key, tokens float64, now time.Time) {
	buckets := m.limits[k.Limit.Name]
	if buckets == nil {
		buckets = map[string]*bucket{}
		m.limits[k.Limit.Name] = buckets
	}
	if _, ok := buckets[k.ID]; !ok && len(buckets) >= m.maxKeys {
		for id := range buckets {
			if m.level(k.Limit.Key(id), now) >= float64(k.Limit.N) {
				delete(buckets, id)
			}
		}
		for id := range buckets {
			if len(buckets) < m.maxKeys {
				break
			}
			delete(buckets, id)
		}
	}
	buckets[k.ID] = &bucket{tokens: tokens, at: now}
}
