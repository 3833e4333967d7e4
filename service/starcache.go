package service

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
)

// starTTL is how long a listed merchant's rated star may be reused. A change
// made through this instance drops it at once; one made through another
// instance shows in lists within starTTL (scores and ranks are always live).
const starTTL = 2 * time.Second

// starCache keeps recently computed rated stars for leaderboard pages, so a
// page read from Redis needs no database query.
type starCache struct {
	mu  sync.RWMutex
	m   map[int64][]cachedStar // merchant id → its stars, one per cycle
	gen atomic.Uint64          // bumped by every forget
}

type cachedStar struct {
	cycle   string
	star    int
	expires time.Time
}

// maxStarMerchants bounds the merchants remembered; past it all are forgotten.
const maxStarMerchants = 200_000

func newStarCache() *starCache { return &starCache{m: map[int64][]cachedStar{}} }

// fill sets stars[i] to the cached rated star of items[i] in cycle, under one
// read lock, and returns the indexes it found no fresh star for and when the
// first of the stars it found expires (now + starTTL when none).
func (c *starCache) fill(items []leaderboard.Entry, cycle string, now time.Time, stars []int) (missing []int, until time.Time) {
	until = now.Add(starTTL)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, it := range items {
		found := false
		for _, e := range c.m[it.MerchantID] {
			if e.cycle == cycle && now.Before(e.expires) {
				stars[i], found = e.star, true
				if e.expires.Before(until) {
					until = e.expires
				}
				break
			}
		}
		if !found {
			missing = append(missing, i)
		}
	}
	return missing, until
}

func (c *starCache) put(k models.ScoreKey, star int, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxStarMerchants {
		clear(c.m)
	}
	e := cachedStar{cycle: k.Cycle, star: star, expires: now.Add(starTTL)}
	kept := c.m[k.MerchantID][:0:0]
	for _, old := range c.m[k.MerchantID] {
		if old.cycle != k.Cycle && now.Before(old.expires) {
			kept = append(kept, old)
		}
	}
	c.m[k.MerchantID] = append(kept, e)
}

// forget drops a merchant's stars of every cycle.
func (c *starCache) forget(merchantID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	delete(c.m, merchantID)
}

// notifier is the ScoreListener the service calls after commits: it drops the
// merchant's cached star and public profile, then tells the leaderboards.
type notifier struct {
	s    *Service
	next ScoreListener
}

func (n notifier) ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int) {
	n.s.stars.forget(m.ID)
	n.s.profiles.forget(m.Code)
	if n.next != nil {
		n.next.ScoreChanged(ctx, m, cycle, score, version)
	}
}
