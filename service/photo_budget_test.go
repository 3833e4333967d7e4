package service

import (
	"bytes"
	"context"
	"testing"
)

// TestPhotoDecodesShareABudget: while the process's decode budget is taken,
// an upload waits for it, and one whose request ends while waiting is
// answered 503 (retry later) rather than decoded; once the budget is free
// the same photo passes.
func TestPhotoDecodesShareABudget(t *testing.T) {
	photo := auditPNG(7).Bytes()
	if err := decodeBudget.Acquire(context.Background(), 2*MaxPhotoPixels); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := checkPhoto(ctx, bytes.NewReader(photo), "file")
		done <- err
	}()
	cancel() // without the budget the photo would have decoded regardless
	err := <-done
	decodeBudget.Release(2 * MaxPhotoPixels)
	if ErrorCode(err) != CodeUnavailable {
		t.Fatalf("a decode while the budget is taken, its request gone: %v, want unavailable", err)
	}
	if _, err := checkPhoto(context.Background(), bytes.NewReader(photo), "file"); err != nil {
		t.Fatalf("the same photo with the budget free: %v", err)
	}
}
