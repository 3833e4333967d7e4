package leaderboard_test

import (
	"testing"
	"time"

	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/leaderboard/redistest"
)

// TestRedisClusterFailoverDuringInspections records inspections through the
// service on a Redis Cluster of three masters, each with a replica, and kills
// (SIGKILL) the master of the city keys' slot, which every change writes to,
// while they run: every inspection is kept and reads keep answering (from SQL
// while Redis errs); once its replica is promoted, the board is served from
// Redis again and every ranking equals SQL.
func TestRedisClusterFailoverDuringInspections(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			cl := redistest.StartCluster(t, 3, 1)
			run := startInspectionRun(t, cl.URL(), d)
			db, board, sql, cycle, ins := run.db, run.board, run.sql, run.cycle, run.ins

			ins.record(40)
			leaderboard.ServesFromRedis(t, board, cycle)
			leaderboard.SameAnswers(t, db, sql, board, cycle)

			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
						ins.record(4 * ins.workers)
					}
				}
			}()
			time.Sleep(300 * time.Millisecond)
			cityKey := "lb:{city}:" + cycle + ":city"
			killed := cl.MasterOf(cityKey)
			before, killedAt := ins.recorded(), time.Now()
			cl.Kill(killed)
			promoted := cl.WaitPromoted(cityKey, killed, 30*time.Second)
			promotedAt := time.Now()
			time.Sleep(500 * time.Millisecond) // inspections after the promotion too
			close(stop)
			<-done
			during := ins.recorded() - before

			ins.record(40)
			leaderboard.WaitServed(t, board, cycle, 30*time.Second)
			t.Logf("master %s killed; replica %s promoted after %v; served from Redis again %v after the kill; %d items recorded meanwhile; writes %+v",
				killed, promoted, promotedAt.Sub(killedAt).Round(time.Millisecond), time.Since(killedAt).Round(time.Millisecond), during, board.WriteStats())
			if during == 0 {
				t.Error("no inspection was recorded during the failover")
			}
			leaderboard.SameAnswers(t, db, sql, board, cycle)
			ins.ledgerHoldsAll(db)
		})
	}
}
