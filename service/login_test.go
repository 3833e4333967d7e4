package service

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestLoginLimitPerClient: failed logins from one client address are limited
// whatever usernames they name (30, then one every 30 s); a refused attempt
// checks no password and stores nothing; another address still signs in, and
// successes never count.
func TestLoginLimitPerClient(t *testing.T) {
	onAdminDBs(t, func(t *testing.T, db *models.DB, s *Service, clk *testClock) {
		ctx := context.Background()
		const spray = "10.0.0.1"
		guess(t, s, spray, 30)
		for _, try := range []struct{ user, pw string }{{"guess30", "wrong-password"}, {"admin", "correct-horse-1"}} {
			_, err := s.LoginFrom(ctx, spray, try.user, try.pw)
			e, ok := err.(*Error)
			if !ok || e.Code != CodeRateLimited || e.RetryAfter != 30 {
				t.Fatalf("%s from the spraying address: %v, want %s with Retry-After 30", try.user, err, CodeRateLimited)
			}
			if n := storedFailures(t, db, try.user); n != 0 {
				t.Errorf("a refused attempt at %s stored %d failures, want 0", try.user, n)
			}
		}
		for i := range 40 {
			if _, err := s.LoginFrom(ctx, "10.0.0.2", "admin", "correct-horse-1"); err != nil {
				t.Fatalf("login %d from another address: %v", i+1, err)
			}
		}
		clk.add(30 * time.Second)
		if _, err := s.LoginFrom(ctx, spray, "admin", "correct-horse-1"); err != nil {
			t.Fatalf("30 s later, from the spraying address: %v, want one more try", err)
		}
	})
}

// TestPasswordChecksBounded: no more password checks run at once than there
// are slots, a bounded number of logins wait for one, and the next is
// answered 503 with Retry-After at once, checking nothing; those held then
// finish.
func TestPasswordChecksBounded(t *testing.T) {
	onAdminDBs(t, func(t *testing.T, _ *models.DB, s *Service, _ *testClock) {
		ctx := context.Background()
		entered, release := make(chan struct{}, 3), make(chan struct{})
		var running, most atomic.Int64
		s.checks = &passwordChecks{slots: make(chan struct{}, 2), queue: 1, wait: time.Hour, held: func() {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			entered <- struct{}{}
			<-release
			running.Add(-1)
		}}
		var wg sync.WaitGroup
		errs := make([]error, 3)
		login := func(i int) {
			defer wg.Done()
			_, errs[i] = s.LoginFrom(ctx, "10.0.1."+strconv.Itoa(i), "admin", "correct-horse-1")
		}
		wg.Add(3)
		go login(0)
		go login(1)
		<-entered
		<-entered
		go login(2)
		for deadline := time.Now().Add(10 * time.Second); s.checks.waiting.Load() != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the third login never waited for a slot")
			}
		}
		_, err := s.LoginFrom(ctx, "10.0.1.9", "admin", "correct-horse-1")
		if e, ok := err.(*Error); !ok || e.Code != CodeUnavailable || e.RetryAfter < 1 {
			t.Errorf("a login beyond the slots and the queue: %v, want %s with Retry-After", err, CodeUnavailable)
		}
		if n := len(entered); n != 0 {
			t.Errorf("%d more checks started while the slots were held", n)
		}
		close(release)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("held login %d: %v", i, err)
			}
		}
		if got := most.Load(); got != 2 {
			t.Errorf("at most %d checks ran at once, want 2", got)
		}
	})
}

// A login waits for a slot no longer than its bound, nor than its caller.
func TestPasswordCheckWaitEnds(t *testing.T) {
	t.Parallel()
	p := &passwordChecks{slots: make(chan struct{}, 1), queue: 4, wait: time.Millisecond}
	p.slots <- struct{}{}
	ran := false
	if err := p.run(context.Background(), func() error { ran = true; return nil }); ErrorCode(err) != CodeUnavailable {
		t.Errorf("wait passed: %v, want %s", err, CodeUnavailable)
	}
	p.wait = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.run(ctx, func() error { ran = true; return nil }); err != context.Canceled {
		t.Errorf("caller gone: %v, want context.Canceled", err)
	}
	if ran || p.waiting.Load() != 0 {
		t.Errorf("ran %v, %d still waiting; want no check and none waiting", ran, p.waiting.Load())
	}
}

// Logins of one address that wait for a password check together are looked
// at again in the slot: once the failures are used up, the waiting ones are
// refused (429) without a check.
func TestLoginLimitPerClientConcurrent(t *testing.T) {
	onAdminDBs(t, func(t *testing.T, _ *models.DB, s *Service, _ *testClock) {
		ctx := context.Background()
		const spray = "10.0.2.1"
		guess(t, s, spray, 29)
		entered, release := make(chan struct{}, 5), make(chan struct{})
		var checks atomic.Int64
		s.checks = &passwordChecks{slots: make(chan struct{}, 1), queue: 8, wait: time.Hour, held: func() {
			if checks.Add(1) == 1 {
				entered <- struct{}{}
				<-release
			}
		}}
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.LoginFrom(ctx, spray, "late"+strconv.Itoa(i), "wrong-password")
			}()
			if i == 0 {
				<-entered // the first holds the slot; the others pass the first look and wait
			}
		}
		for deadline := time.Now().Add(10 * time.Second); s.checks.waiting.Load() != 4; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d logins waiting for the slot, want 4", s.checks.waiting.Load())
			}
		}
		close(release)
		wg.Wait()
		var failed, limited int
		for _, err := range errs {
			switch ErrorCode(err) {
			case CodeUnauthorized:
				failed++
			case CodeRateLimited:
				limited++
			default:
				t.Errorf("login: %v", err)
			}
		}
		if failed != 1 || limited != 4 {
			t.Errorf("the 30th failure and 4 waiting with it: %d failed and %d refused, want 1 and 4", failed, limited)
		}
	})
}

// onAdminDBs runs f, in parallel, on a fresh database of each dialect with
// its city admin (adminDB) and a service over it.
func onAdminDBs(t *testing.T, f func(t *testing.T, db *models.DB, s *Service, clk *testClock)) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := adminDB(t, d)
			s, clk := newAuthService(t, db, "secret-one-0123456789")
			f(t, db, s, clk)
		})
	}
}

// guess sends n failed logins from client, each with another username.
func guess(t *testing.T, s *Service, client string, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.LoginFrom(context.Background(), client, "guess"+strconv.Itoa(i), "wrong-password"); ErrorCode(err) != CodeUnauthorized {
			t.Fatalf("guess %d: %v, want %s", i+1, err, CodeUnauthorized)
		}
	}
}
