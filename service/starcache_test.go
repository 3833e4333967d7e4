package service

import (
	"reflect"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
)

// TestStarCache: stars are kept per merchant and cycle for starTTL, forget
// drops every cycle of one merchant only and bumps the generation, and fill
// reports when the first star it used expires.
func TestStarCache(t *testing.T) {
	c := newStarCache()
	t0 := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
	c.put(models.ScoreKey{MerchantID: 1, Cycle: "2026-11"}, 4, t0)
	c.put(models.ScoreKey{MerchantID: 1, Cycle: "2026-10"}, 3, t0.Add(time.Second))
	c.put(models.ScoreKey{MerchantID: 2, Cycle: "2026-11"}, 5, t0.Add(time.Second))
	c.put(models.ScoreKey{MerchantID: 2, Cycle: "2026-11"}, 2, t0.Add(time.Second)) // replaces
	items := []leaderboard.Entry{{MerchantID: 1}, {MerchantID: 2}, {MerchantID: 3}}

	stars := make([]int, 3)
	missing, until := c.fill(items, "2026-11", t0.Add(time.Second), stars)
	if !reflect.DeepEqual(missing, []int{2}) || stars[0] != 4 || stars[1] != 2 || !until.Equal(t0.Add(starTTL)) {
		t.Errorf("fill 2026-11: missing %v, stars %v, until %v", missing, stars, until)
	}
	stars = make([]int, 3)
	if missing, _ := c.fill(items, "2026-10", t0.Add(time.Second), stars); !reflect.DeepEqual(missing, []int{1, 2}) || stars[0] != 3 {
		t.Errorf("fill 2026-10: missing %v, stars %v", missing, stars)
	}
	stars = make([]int, 3)
	if missing, _ := c.fill(items, "2026-11", t0.Add(starTTL), stars); !reflect.DeepEqual(missing, []int{0, 2}) || stars[1] != 2 {
		t.Errorf("fill after merchant 1's star expired: missing %v, stars %v", missing, stars)
	}

	gen := c.gen.Load()
	c.forget(1)
	if c.gen.Load() == gen {
		t.Error("forget did not bump the generation")
	}
	stars = make([]int, 3)
	if missing, _ := c.fill(items, "2026-11", t0.Add(time.Second), stars); !reflect.DeepEqual(missing, []int{0, 2}) || stars[1] != 2 {
		t.Errorf("fill after forget(1): missing %v, stars %v", missing, stars)
	}
	if missing, _ := c.fill(items[:1], "2026-10", t0.Add(time.Second), make([]int, 1)); len(missing) != 1 {
		t.Error("forget(1) kept its 2026-10 star")
	}
}
