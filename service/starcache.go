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
	m   map[models.ScoreKey]cachedStar
	gen atomic.Uint64 // bumped by every forget
}

type cachedStar struct {
	star    int
	expires time.Time
}

func newStarCache() *starCache { return &starCache{m: map[models.ScoreKey]cachedStar{}} }

// fill sets stars[i] to the cached rated star of items[i] in cycle, under one
// read lock, and returns the indexes it found no fresh star for and when the
// first of the stars it found expires (now + starTTL when none).
func (c *starCache) fill(items []leaderboard.Entry, cycle string, now time.Time, stars []int) (missing []int, until time.Time) {
	until = now.Add(starTTL)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, it := range items {
		e, ok := c.m[models.ScoreKey{MerchantID: it.MerchantID, Cycle: cycle}]
		if ok && now.Before(e.expires) {
			stars[i] = e.star
			if e.expires.Before(until) {
				until = e.expires
			}
		} else {
			missing = append(missing, i)
		}
	}
	return missing, until
}

func (c *starCache) put(k models.ScoreKey, star int, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 200_000 {
		clear(c.m)
	}
	c.m[k] = cachedStar{star: star, expires: now.Add(starTTL)}
}

// forget drops a merchant's stars of every cycle.
func (c *starCache) forget(merchantID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for k := range c.m {
		if k.MerchantID == merchantID {
			delete(c.m, k)
		}
	}
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
