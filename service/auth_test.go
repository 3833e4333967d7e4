package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
	"github.com/menqian/menqian/service/policy"
)

// testClock is a settable clock for the service under test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) add(d time.Duration) { c.set(c.now().Add(d)) }

func newAuthService(t *testing.T, db *models.DB, secret string) (*Service, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)}
	return New(Options{DB: db, Policy: policy.Default(), Secret: []byte(secret), Clock: clk.now, PasswordCost: bcrypt.MinCost}), clk
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	const pw = "correct-horse-battery"
	h1, err := HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(pw, bcrypt.MinCost)
	if h1 == pw || strings.Contains(h1, pw) || !strings.HasPrefix(h1, "$2") {
		t.Errorf("hash = %q, want a bcrypt hash that does not contain the password", h1)
	}
	if h1 == h2 {
		t.Errorf("two hashes of one password are equal: no salt")
	}
	if bcrypt.CompareHashAndPassword([]byte(h1), []byte(pw)) != nil {
		t.Errorf("the hash does not verify its password")
	}
	if bcrypt.CompareHashAndPassword([]byte(h1), []byte(pw+"x")) == nil {
		t.Errorf("the hash verifies another password")
	}
}

// TestPasswordCost: stored passwords and the hash that logins of unknown
// users are checked against have the service's cost, the default unless set
// (production sets none), so a failed login of an unknown user takes as long
// as one of a real user.
func TestPasswordCost(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ set, want int }{{0, bcrypt.DefaultCost}, {bcrypt.MinCost, bcrypt.MinCost}} {
		t.Run(strconv.Itoa(c.set), func(t *testing.T) {
			t.Parallel()
			s := New(Options{Secret: []byte("secret-one-0123456789"), PasswordCost: c.set})
			h, err := s.hashPassword("correct-horse-battery")
			if err != nil {
				t.Fatal(err)
			}
			if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != c.want {
				t.Errorf("stored password: bcrypt cost = %d (%v), want %d", cost, err, c.want)
			}
			if cost, err := bcrypt.Cost(s.dummyHash()); err != nil || cost != c.want {
				t.Errorf("unknown users' hash: bcrypt cost = %d (%v), want %d", cost, err, c.want)
			}
		})
	}
}

var tokenUser = models.User{ID: 42, Username: "officer370303", Role: RoleOfficer, CountyID: ptr(int64(7))}

func ptr[T any](v T) *T { return &v }

func TestTokenRoundTripAndExpiry(t *testing.T) {
	t.Parallel()
	s, clk := newAuthService(t, nil, "secret-one-0123456789")
	tok, exp, err := s.IssueToken(tokenUser)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.now().Add(TokenTTL); !exp.Equal(want) || TokenTTL != 12*time.Hour {
		t.Errorf("expires %v, want %v (12 hours)", exp, want)
	}
	a, err := s.Authenticate(tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Actor{UserID: 42, Username: "officer370303", Role: RoleOfficer, CountyID: 7}); a != want {
		t.Errorf("actor = %+v, want %+v", a, want)
	}
	clk.add(TokenTTL - time.Second)
	if _, err := s.Authenticate(tok); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	clk.add(2 * time.Second)
	if _, err := s.Authenticate(tok); ErrorCode(err) != CodeUnauthorized {
		t.Errorf("12h+1s after issue: err = %v, want %s", err, CodeUnauthorized)
	}
}

// segments splits a JWT and decodes its claims.
func segments(t *testing.T, tok string) (header, payload, sig string, cl map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cl); err != nil {
		t.Fatal(err)
	}
	return parts[0], parts[1], parts[2], cl
}

func encodeClaims(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokenForgeries(t *testing.T) {
	t.Parallel()
	const secret = "secret-one-0123456789"
	s, clk := newAuthService(t, nil, secret)
	other, _ := newAuthService(t, nil, "secret-two-0123456789")
	tok, _, _ := s.IssueToken(tokenUser)
	header, payload, sig, cl := segments(t, tok)

	escalated := map[string]any{}
	for k, v := range cl {
		escalated[k] = v
	}
	escalated["role"], escalated["cid"] = RoleCityAdmin, 0
	longer := map[string]any{}
	for k, v := range cl {
		longer[k] = v
	}
	longer["exp"] = clk.now().Add(365 * 24 * time.Hour).Unix()
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))

	signed := func(method jwt.SigningMethod, key []byte, c jwt.Claims) string {
		t.Helper()
		tok, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := clk.now()
	good := claims{Role: RoleCityAdmin, Username: "admin", RegisteredClaims: jwt.RegisteredClaims{Subject: "1", Issuer: "menqian",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}
	withIssuer, withoutExp, withSubject := good, good, good
	withIssuer.Issuer = "someone-else"
	withoutExp.ExpiresAt = nil
	withSubject.Subject = "admin"
	flipped := []byte(sig)
	flipped[len(flipped)/2] ^= 1

	for name, forged := range map[string]string{
		"claims changed to city admin": header + "." + encodeClaims(t, escalated) + "." + sig,
		"expiry extended":              header + "." + encodeClaims(t, longer) + "." + sig,
		"signature bit flipped":        header + "." + payload + "." + string(flipped),
		"signature removed":            header + "." + payload + ".",
		"alg none":                     noneHeader + "." + encodeClaims(t, escalated) + ".",
		"truncated":                    tok[:len(tok)-5],
		"empty":                        "",
		"garbage":                      "not-a-token",
		"another secret":               func() string { x, _, _ := other.IssueToken(tokenUser); return x }(),
		"the raw secret as key":        signed(jwt.SigningMethodHS256, []byte(secret), good),
		"HS512 with the right key":     signed(jwt.SigningMethodHS512, tokenKey([]byte(secret)), good),
		"another issuer":               signed(jwt.SigningMethodHS256, tokenKey([]byte(secret)), withIssuer),
		"no expiry":                    signed(jwt.SigningMethodHS256, tokenKey([]byte(secret)), withoutExp),
		"non-numeric subject":          signed(jwt.SigningMethodHS256, tokenKey([]byte(secret)), withSubject),
	} {
		if a, err := s.Authenticate(forged); ErrorCode(err) != CodeUnauthorized {
			t.Errorf("%s: accepted as %+v (err %v)", name, a, err)
		}
	}
	// The control: the same construction with everything right is accepted,
	// so the cases above fail for the reason they name.
	if a, err := s.Authenticate(signed(jwt.SigningMethodHS256, tokenKey([]byte(secret)), good)); err != nil || a.Role != RoleCityAdmin {
		t.Errorf("a correctly signed token: %+v, %v", a, err)
	}
}

// adminDB returns a fresh database of dialect d with its city admin, admin,
// whose password is correct-horse-1.
func adminDB(t *testing.T, d models.Dialect) *models.DB {
	t.Helper()
	db := dbtest.Open(t, d)
	s, _ := newAuthService(t, db, "secret-one-0123456789")
	if _, _, err := s.Bootstrap(context.Background(), "correct-horse-1"); err != nil {
		t.Fatal(err)
	}
	return db
}

// storedFailures counts the rows of user in the login_failures table.
func storedFailures(t *testing.T, db *models.DB, user string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM login_failures WHERE username = ?`, user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoginLimiterWindow(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := dbtest.Open(t, d)
			t0 := time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC)
			l := newLoginLimiter(db, 5, 15*time.Minute)
			fail := func(user string, at time.Time) {
				t.Helper()
				if err := l.fail(ctx, user, at); err != nil {
					t.Fatal(err)
				}
			}
			blocked := func(user string, at time.Time) time.Duration {
				t.Helper()
				w, err := l.blocked(ctx, user, at)
				if err != nil {
					t.Fatal(err)
				}
				return w
			}
			for i := range 4 {
				fail("alice", t0.Add(time.Duration(i)*time.Minute))
			}
			if w := blocked("alice", t0.Add(4*time.Minute)); w != 0 {
				t.Errorf("after 4 failures: blocked %v, want 0", w)
			}
			fail("alice", t0.Add(4*time.Minute))
			for _, c := range []struct {
				at   time.Duration
				want time.Duration
			}{
				{4 * time.Minute, 11 * time.Minute}, // until the first failure leaves the window
				{14*time.Minute + 59*time.Second, time.Second},
				{15*time.Minute - time.Millisecond, time.Millisecond},
				{15 * time.Minute, 0}, // the first failure is out: four remain
			} {
				if got := blocked("alice", t0.Add(c.at)); got != c.want {
					t.Errorf("at +%v: blocked %v, want %v", c.at, got, c.want)
				}
			}
			if got := blocked("bob", t0.Add(5*time.Minute)); got != 0 {
				t.Errorf("bob is blocked by alice's failures: %v", got)
			}
			// The window slides: one more failure blocks again, until the second
			// failure (at +1m) is 15 minutes old.
			fail("alice", t0.Add(15*time.Minute))
			if got := blocked("alice", t0.Add(15*time.Minute)); got != time.Minute {
				t.Errorf("after a sixth failure: blocked %v, want 1m", got)
			}
			if err := l.reset(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if got := blocked("alice", t0.Add(15*time.Minute)); got != 0 {
				t.Errorf("after reset: blocked %v", got)
			}
			if n := storedFailures(t, db, "alice"); n != 0 {
				t.Errorf("after reset: %d rows of alice kept", n)
			}
			// Old failures are deleted from the table, not kept forever: the
			// next failure of anyone prunes them, and only them.
			fail("carol", t0)
			fail("erin", t0.Add(2*time.Minute))
			fail("dave", t0.Add(16*time.Minute))
			if n := storedFailures(t, db, "carol"); n != 0 {
				t.Errorf("%d failures older than the window are still kept", n)
			}
			if n := storedFailures(t, db, "erin"); n != 1 {
				t.Errorf("a failure inside the window: %d rows kept, want 1", n)
			}
		})
	}
}

// TestLoginRateLimit drives Login itself: five failures block the username
// for 15 minutes, the right password included; unknown and disabled users
// fail like wrong passwords; the window's end lets the right password in.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := adminDB(t, d)
			stored, err := db.UserByUsername(ctx, "admin")
			if err != nil {
				t.Fatal(err)
			}
			if stored.PasswordHash == "correct-horse-1" || strings.Contains(stored.PasswordHash, "correct-horse") || !strings.HasPrefix(stored.PasswordHash, "$2") {
				t.Errorf("stored password = %q, want a bcrypt hash", stored.PasswordHash)
			}
			s, clk := newAuthService(t, db, "secret-one-0123456789")
			for i := range 5 {
				if _, err := s.Login(ctx, "admin", "wrong-password"); ErrorCode(err) != CodeUnauthorized {
					t.Fatalf("failure %d: %v, want %s", i+1, err, CodeUnauthorized)
				}
				clk.add(time.Second)
			}
			for _, pw := range []string{"wrong-password", "correct-horse-1"} {
				_, err := s.Login(ctx, "admin", pw)
				e, ok := err.(*Error)
				if !ok || e.Code != CodeRateLimited || e.RetryAfter < 1 || e.RetryAfter > 900 {
					t.Fatalf("blocked login with %q: %v, want %s with Retry-After in 1..900", pw, err, CodeRateLimited)
				}
				if want := 900 - 5; e.RetryAfter != want {
					t.Errorf("RetryAfter = %d, want %d (15 minutes from the first failure)", e.RetryAfter, want)
				}
			}
			clk.add(15 * time.Minute)
			res, err := s.Login(ctx, "admin", "correct-horse-1")
			if err != nil {
				t.Fatalf("after the window: %v", err)
			}
			if res.User.Username != "admin" || res.Token == "" {
				t.Errorf("login = %+v", res)
			}
			if a, err := s.Authenticate(res.Token); err != nil || a.Role != RoleCityAdmin {
				t.Errorf("the login's token: %+v, %v", a, err)
			}
			if n := storedFailures(t, db, "admin"); n != 0 {
				t.Errorf("a successful login leaves %d failures counted", n)
			}

			// Unknown and disabled users are refused like wrong passwords, and count.
			if _, err := s.Login(ctx, "nobody", "whatever-pw"); ErrorCode(err) != CodeUnauthorized {
				t.Errorf("unknown user: %v", err)
			}
			if n := storedFailures(t, db, "nobody"); n != 1 {
				t.Errorf("an unknown user's failure counted %d times, want 1", n)
			}
			off := models.User{Username: "retired", PasswordHash: stored.PasswordHash, Role: RoleCityAdmin, Disabled: true}
			if err := db.CreateUser(ctx, &off); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Login(ctx, "retired", "correct-horse-1"); ErrorCode(err) != CodeUnauthorized {
				t.Errorf("disabled user: %v, want %s", err, CodeUnauthorized)
			}
			if n := storedFailures(t, db, "retired"); n != 1 {
				t.Errorf("a disabled user's failure counted %d times, want 1", n)
			}
			tok, _, _ := s.IssueToken(off)
			a, err := s.Authenticate(tok)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Me(ctx, a); ErrorCode(err) != CodeUnauthorized {
				t.Errorf("Me of a disabled user: %v, want %s", err, CodeUnauthorized)
			}
		})
	}
}

// TestLoginLimitSharedByInstances: two instances behind a load balancer over
// one database count the same failures, so an attacker gets five tries in all,
// not five per instance; and a success on one clears the count on both.
func TestLoginLimitSharedByInstances(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := adminDB(t, d)
			one, clk := newAuthService(t, db, "secret-one-0123456789")
			two := New(Options{DB: db, Policy: policy.Default(), Secret: []byte("secret-one-0123456789"), Clock: clk.now, PasswordCost: bcrypt.MinCost})
			wrong := func(s *Service, name string) {
				t.Helper()
				if _, err := s.Login(ctx, "admin", "wrong-password"); ErrorCode(err) != CodeUnauthorized {
					t.Fatalf("wrong password through %s: %v, want %s", name, err, CodeUnauthorized)
				}
				clk.add(time.Second)
			}

			// Four failures through one, a success through two, one more
			// failure through one: one's count restarted at two's success.
			for range 4 {
				wrong(one, "one")
			}
			if _, err := two.Login(ctx, "admin", "correct-horse-1"); err != nil {
				t.Fatalf("right password through two after 4 failures: %v", err)
			}
			wrong(one, "one")
			if _, err := one.Login(ctx, "admin", "correct-horse-1"); err != nil {
				t.Errorf("right password through one after two's success and 1 failure: %v, want a login (the success cleared the count)", err)
			}

			// Three failures through one and two through two block both.
			for range 3 {
				wrong(one, "one")
			}
			for range 2 {
				wrong(two, "two")
			}
			for name, s := range map[string]*Service{"one": one, "two": two} {
				_, err := s.Login(ctx, "admin", "correct-horse-1")
				e, ok := err.(*Error)
				if !ok || e.Code != CodeRateLimited {
					t.Fatalf("right password through %s after 3+2 failures: %v, want %s", name, err, CodeRateLimited)
				}
				if want := 900 - 5; e.RetryAfter != want {
					t.Errorf("%s: RetryAfter = %d, want %d", name, e.RetryAfter, want)
				}
			}
			clk.add(15 * time.Minute)
			if _, err := two.Login(ctx, "admin", "correct-horse-1"); err != nil {
				t.Errorf("after the window: %v", err)
			}
		})
	}
}

// failingFailures is the real store, with one of its methods failing.
type failingFailures struct {
	*models.DB
	failing string
}

var errStoreDown = errors.New("store down")

func (f failingFailures) RecordLoginFailure(ctx context.Context, username string, at, windowStart time.Time) error {
	if f.failing == "record" {
		return errStoreDown
	}
	return f.DB.RecordLoginFailure(ctx, username, at, windowStart)
}

func (f failingFailures) LoginFailuresAfter(ctx context.Context, username string, after time.Time) ([]time.Time, error) {
	if f.failing == "read" {
		return nil, errStoreDown
	}
	return f.DB.LoginFailuresAfter(ctx, username, after)
}

func (f failingFailures) ClearLoginFailures(ctx context.Context, username string) error {
	if f.failing == "clear" {
		return errStoreDown
	}
	return f.DB.ClearLoginFailures(ctx, username)
}

// TestLoginStoreFailure: when the failures cannot be read, recorded or
// cleared, Login fails with the error: it neither lets the caller in nor
// turns an uncounted failure into an ordinary wrong password, which would
// lift the limit whenever the store is down.
func TestLoginStoreFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := adminDB(t, models.SQLite)
	s, _ := newAuthService(t, db, "secret-one-0123456789")
	for _, c := range []struct {
		failing, password string
	}{
		{"read", "correct-horse-1"},
		{"read", "wrong-password"},
		{"record", "wrong-password"},
		{"clear", "correct-horse-1"},
	} {
		s.logins = newLoginLimiter(failingFailures{DB: db, failing: c.failing}, 5, 15*time.Minute)
		res, err := s.Login(ctx, "admin", c.password)
		if !errors.Is(err, errStoreDown) || ErrorCode(err) != CodeInternal || res.Token != "" {
			t.Errorf("%s fails, login with %q: %+v, %v; want the store's error", c.failing, c.password, res, err)
		}
	}
	s.logins = newLoginLimiter(db, 5, 15*time.Minute)
	if _, err := s.Login(ctx, "admin", "correct-horse-1"); err != nil {
		t.Errorf("the control, with the store working: %v", err)
	}
}
