package leaderboard

import "context"

// Test helpers for the external test package, which may import service
// (service imports this package).
var (
	StartRedisServer = startRedisServer
	SameAnswers      = sameAnswers
	ServesFromRedis  = servesFromRedis
	Quiet            = quiet
)

// ServedFromRedis reports whether reads of the cycle would use Redis. It asks
// this instance first: a ready marker seen after the instance trusts the
// cycle again was set by a rebuild that has every change the instance knew.
func ServedFromRedis(r *Redis, cycle string) bool {
	if !r.usable(cycle) {
		return false
	}
	n, err := r.rdb.Exists(context.Background(), r.keys(cycle).ready()).Result()
	return err == nil && n == 1
}

// RunBoard and WaitServed are runBoard and waitServed.
var (
	RunBoard   = runBoard
	WaitServed = waitServed
)
