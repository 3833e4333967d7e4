package main

import (
	"context"
	"io"
	"net"
)

func splitPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }

// wireLeaderboards connects Redis when configured (filled in with the leaderboard package).
func (a *app) wireLeaderboards(ctx context.Context) error { return nil }

// startBackground starts the jobs a serving instance runs.
func (a *app) startBackground(ctx context.Context) {}

func cmdPlaques(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return nil
}
func cmdCloseCycle(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return nil
}
func cmdLeaderboards(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return nil
}
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return nil
}
