package main

import (
	"context"
	"io"
)

func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return nil
}
