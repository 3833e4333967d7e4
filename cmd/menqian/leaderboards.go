package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/menqian/menqian/service/leaderboard"
)

// wireLeaderboards connects Redis when configured; without it SQL serves rankings.
func (a *app) wireLeaderboards() error {
	if a.cfg.RedisURL == "" {
		return nil
	}
	rdb, err := leaderboard.Connect(a.cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("MENQIAN_REDIS_URL: %v", err)
	}
	a.close = append(a.close, func() { rdb.Close() })
	var opts []leaderboard.Option
	if a.cfg.RedisPrefix != "" {
		opts = append(opts, leaderboard.WithPrefix(a.cfg.RedisPrefix))
	}
	a.redis = leaderboard.NewRedis(rdb, a.db, a.policy, a.log, opts...)
	return nil
}

// startBackground starts the jobs every serving instance runs; each is safe
// with many instances (Redis rebuilds take a lock, cycle closing a database
// key, pruning the change log deletes what every instance would).
func (a *app) startBackground(ctx context.Context) {
	if a.redis != nil {
		go a.redis.Run(ctx, time.Minute)
	}
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			closed, err := a.svc.CloseDueCycles(ctx)
			if err != nil && ctx.Err() == nil {
				a.log.Error("closing cycles", "err", err)
			}
			for _, c := range closed {
				a.log.Info("cycle closed", "cycle", c)
			}
			if n, err := a.svc.PruneCountyChanges(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("pruning the county change log", "err", err)
			} else if n > 0 {
				a.log.Info("county change log pruned", "changes", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func cmdLeaderboards(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("leaderboards rebuild", "Rebuild the current cycle's Redis leaderboards from the database (one instance\nat a time: a Redis lock guards it). Without MENQIAN_REDIS_URL there is nothing to rebuild.", stdout)
	if len(args) == 0 || args[0] != "rebuild" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.Usage()
			return nil
		}
		fs.Usage()
		return errors.New("leaderboards: want the subcommand rebuild")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := openApp(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.redis == nil {
		fmt.Fprintln(stdout, "no MENQIAN_REDIS_URL: rankings are served from SQL, nothing to rebuild")
		return nil
	}
	start := time.Now()
	if err := a.svc.RebuildLeaderboards(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuilt the %s leaderboards in %s\n", a.svc.CurrentCycle(), time.Since(start).Round(time.Millisecond))
	return nil
}
