package leaderboard

import (
	"context"
	"syscall"
)

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

// Pause stops the server process (SIGSTOP): it keeps its connections and
// accepts new ones, but answers nothing, as a hung server does. Resume
// continues it (SIGCONT).
func (s *redisServer) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *redisServer) Resume() { s.signal(syscall.SIGCONT) }

func (s *redisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}
