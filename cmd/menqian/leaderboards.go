package main

import (
	"context"
	"io"
)

// wireLeaderboards connects Redis when configured.
func (a *app) wireLeaderboards(ctx context.Context) error { return nil }

// startBackground starts the jobs a serving instance runs.
func (a *app) startBackground(ctx context.Context) {}

func cmdLeaderboards(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return nil
}
