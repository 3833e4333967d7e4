package service

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/menqian/menqian/service/ratelimit"
)

// loginsPerClient limits failed logins per client address, whatever
// usernames they try, so one client cannot spray guesses over many accounts
// (the per-username limit stops guesses at one). Only failures count: an
// office behind one address signs its officers in freely.
var loginsPerClient = ratelimit.Limit{Name: "login-client", N: 30, Window: 15 * time.Minute}

// passwordCheckWait is how long a login waits for a free password check
// before it is answered 503.
const passwordCheckWait = 2 * time.Second

// passwordChecks bounds the password checks (bcrypt) running at once: each
// keeps a core busy for tens of milliseconds, and a flood of them slowed
// every other request a hundredfold (issue 16). A login waits for a slot for
// at most wait, and only while fewer than queue others wait; else it is
// refused at once, so the waiting stays bounded too.
type passwordChecks struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	wait    time.Duration
	// held, when set (tests), runs while a slot is held, before the check.
	held func()
}

// newPasswordChecks leaves half of the cores (at least one) to every other request.
func newPasswordChecks() *passwordChecks {
	n := max(1, runtime.GOMAXPROCS(0)/2)
	return &passwordChecks{slots: make(chan struct{}, n), queue: int64(8 * n), wait: passwordCheckWait}
}

// errBusyLogins is the answer when no password check is free.
func errBusyLogins() error {
	e := Errorf(CodeUnavailable, "登录的人太多，请稍后再试")
	e.RetryAfter = 1
	return e
}

// run runs check in a free slot, waiting for one within the bounds, and
// returns its error.
func (p *passwordChecks) run(ctx context.Context, check func() error) error {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > p.queue {
			p.waiting.Add(-1)
			return errBusyLogins()
		}
		t := time.NewTimer(p.wait)
		select {
		case p.slots <- struct{}{}:
			p.waiting.Add(-1)
			t.Stop()
		case <-t.C:
			p.waiting.Add(-1)
			return errBusyLogins()
		case <-ctx.Done():
			p.waiting.Add(-1)
			t.Stop()
			return ctx.Err()
		}
	}
	defer func() { <-p.slots }()
	if p.held != nil {
		p.held()
	}
	return check()
}

// clientWait returns the 429 of a client address with too many failed logins, nil when it may try.
func (s *Service) clientWait(ctx context.Context, client string) error {
	if client == "" {
		return nil
	}
	wait, err := s.limits.Wait(ctx, s.now(), loginsPerClient.Key(client))
	if err != nil || wait <= 0 {
		return err
	}
	return rateLimited("此网络登录失败次数过多", wait)
}

// clientFailed counts a failed login of the client address.
func (s *Service) clientFailed(ctx context.Context, client string) error {
	if client == "" {
		return nil
	}
	_, err := s.limits.Take(ctx, s.now(), loginsPerClient.Key(client))
	return err
}

// rateLimited is the 429 of a login limit: what, and when to try again.
func rateLimited(what string, wait time.Duration) error {
	e := Errorf(CodeRateLimited, "%s，请 %d 分钟后再试", what, (wait+time.Minute-1)/time.Minute)
	e.RetryAfter = int((wait + time.Second - 1) / time.Second)
	return e
}

// maxLimitKeys is how many client addresses the memory limiter remembers.
const maxLimitKeys = 20000
