package service

import (
	"context"

	"github.com/menqian/menqian/models"
)

// notifier is the ScoreListener the service calls after commits: it drops the
// merchant's public profile here at once (other instances see the county's
// version move), then tells the leaderboards.
type notifier struct {
	s    *Service
	next ScoreListener
}

func (n notifier) ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int) {
	n.s.profiles.forget(m.Code)
	if n.next != nil {
		n.next.ScoreChanged(ctx, m, cycle, score, version)
	}
}
