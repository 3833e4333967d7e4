package service

import (
	"context"
	"sync/atomic"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Rankings through a database outage: while the database cannot be reached
// (models.IsUnavailable), a ranking read answers from the county views this
// instance last built, which were fresh when the database last answered,
// instead of failing; Redis, when configured, still orders the merchant
// pages. The caller learns it through WatchStale, and the API says so in a
// Warning header. Nothing is written from a stale view.

type staleKey struct{}

// WatchStale returns ctx carrying a flag that a read sets when it answered
// from views last refreshed before the database became unreachable.
func WatchStale(ctx context.Context) (context.Context, *atomic.Bool) {
	stale := new(atomic.Bool)
	return context.WithValue(ctx, staleKey{}, stale), stale
}

// lastViewIfDown returns the county's last view of cycle c in place of err
// when err says the database is unreachable and such a view exists; err
// otherwise.
func (s *Service) lastViewIfDown(ctx context.Context, countyID int64, c policy.Cycle, err error) (*countyView, error) {
	if !models.IsUnavailable(err) {
		return nil, err
	}
	cv := s.views.last(viewKey{countyID, c})
	if cv == nil {
		return nil, err
	}
	if stale, ok := ctx.Value(staleKey{}).(*atomic.Bool); ok {
		stale.Store(true)
	}
	return cv, nil
}

// lastViewsIfDown is lastViewIfDown for the city: the last view of every
// county of the last city read that reached the database (ids), when the
// database is unreachable and this instance has each of them.
func (s *Service) lastViewsIfDown(ctx context.Context, c policy.Cycle, ids []int64, down error) ([]*countyView, error) {
	if len(ids) == 0 {
		return nil, down
	}
	out := make([]*countyView, len(ids))
	for i, id := range ids {
		cv, err := s.lastViewIfDown(ctx, id, c, down)
		if err != nil {
			return nil, err
		}
		out[i] = cv
	}
	return out, nil
}
