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

// ServedFromRedis reports whether reads of the cycle would use Redis.
func ServedFromRedis(r *Redis, cycle string) bool {
	n, err := r.rdb.Exists(context.Background(), r.keys(cycle).ready()).Result()
	return err == nil && n == 1 && r.usable(cycle)
}

// RunBoard and WaitServed are runBoard and waitServed.
var (
	RunBoard   = runBoard
	WaitServed = waitServed
)
