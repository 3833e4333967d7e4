package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/menqian/menqian/service/policy"
)

func cmdCloseCycle(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("close-cycle YYYY-MM", "Freeze a finished cycle's results (after its grace period) so its rankings and\nbulletins never change again. Serving instances also do this by themselves.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("close-cycle: want one cycle, e.g. 2026-11")
	}
	c, err := policy.ParseCycle(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("close-cycle: %v", err)
	}
	a, err := openApp(ctx, getenv, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.svc.CloseCycle(ctx, c, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "closed %s: froze the results of %d merchants\n", c, n)
	return nil
}
