package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/menqian/menqian/models"
)

// Roles.
const (
	RoleCityAdmin   = "city_admin"
	RoleCountyAdmin = "county_admin"
	RoleOfficer     = "officer"
	RoleMerchant    = "merchant"
	// RoleAuditor inspects a county's random audits (抽查) blind to the
	// officers' records: it sees its own audits and nothing else of the
	// county (InCounty and the list scopes leave it out).
	RoleAuditor = "auditor"
)

// TokenTTL is how long a login token lasts: one patrol shift and some.
const TokenTTL = 12 * time.Hour

// Actor is the authenticated caller of a business method.
type Actor struct {
	UserID     int64
	Username   string
	Role       string
	CountyID   int64 // 0 for the city admin
	MerchantID int64 // merchants only
	generation int   // the token's account generation (see CheckActive)
}

// IsCity reports whether the actor sees every county.
func (a Actor) IsCity() bool { return a.Role == RoleCityAdmin }

// InCounty reports whether the actor may see county id's data. An auditor
// may not: it sees only its audits (spotcheck.go), never the officers'
// records, scores or rankings it is meant to be blind to.
func (a Actor) InCounty(id int64) bool {
	return a.IsCity() || (a.CountyID != 0 && a.CountyID == id && a.Role != RoleAuditor)
}

// listScope is whose records a list of appeals or notices shows: a
// merchant's own (whatever county it names), else the county asked for
// (errForbidden outside the caller's), else the caller's county, or every
// county (nil) for the city admin.
func (a Actor) listScope(countyID int64) (counties []int64, merchantID int64, err error) {
	switch {
	case a.Role == RoleAuditor:
		return nil, 0, errForbidden
	case a.Role == RoleMerchant:
		return nil, a.MerchantID, nil
	case countyID != 0:
		if !a.InCounty(countyID) {
			return nil, 0, errForbidden
		}
		return []int64{countyID}, 0, nil
	}
	return a.countyScope(), 0, nil
}

// countyScope is the county filter of list queries: nil means all; an
// auditor's is empty (it matches nothing).
func (a Actor) countyScope() []int64 {
	switch {
	case a.IsCity():
		return nil
	case a.Role == RoleAuditor:
		return []int64{}
	}
	return []int64{a.CountyID}
}

// can reports whether the actor's role is one of roles.
func (a Actor) can(roles ...string) bool {
	for _, r := range roles {
		if a.Role == r {
			return true
		}
	}
	return false
}

// HashPassword hashes with bcrypt at cost (0: bcrypt.DefaultCost).
func HashPassword(pw string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(h), err
}

// hashPassword hashes at the service's cost.
func (s *Service) hashPassword(pw string) (string, error) { return HashPassword(pw, s.hashCost) }

// newDummyHash returns the hash that logins of unknown users are checked
// against, so that they cost as much as real ones: at the cost of real
// hashes, made on first use, so commands that never log anyone in do not pay
// for it.
func newDummyHash(cost int) func() []byte {
	return sync.OnceValue(func() []byte {
		h, _ := HashPassword("menqian-timing", cost)
		return []byte(h)
	})
}

// tokenKey derives the login-token key from the service secret, so it differs
// from the plaque key made from the same secret.
func tokenKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("menqian login token v1"))
	return m.Sum(nil)
}

type claims struct {
	Role       string `json:"role"`
	CountyID   int64  `json:"cid,omitempty"`
	MerchantID int64  `json:"mid,omitempty"`
	Username   string `json:"name"`
	Generation int    `json:"gen,omitempty"` // the account's token generation at issue
	jwt.RegisteredClaims
}

// IssueToken signs a login token for u.
func (s *Service) IssueToken(u models.User) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(TokenTTL)
	c := claims{Role: u.Role, Username: u.Username, Generation: u.TokenGeneration, RegisteredClaims: jwt.RegisteredClaims{
		Subject: strconv.FormatInt(u.ID, 10), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		Issuer: "menqian",
	}}
	if u.CountyID != nil {
		c.CountyID = *u.CountyID
	}
	if u.MerchantID != nil {
		c.MerchantID = *u.MerchantID
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.tokenKey)
	return tok, exp, err
}

// Authenticate verifies a login token and returns its actor. Verified tokens
// are remembered until they expire (a token is immutable: once its signature
// checked, it stays valid until its exp), so a busy client pays for the
// signature once; whether the account is still enabled and the token still of
// its generation is CheckActive's job, on every request.
func (s *Service) Authenticate(token string) (Actor, error) {
	now := s.now()
	if a, ok := s.tokens.get(token, now); ok {
		return a, nil
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) { return s.tokenKey, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("menqian"), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now))
	if err != nil {
		return Actor{}, Errorf(CodeUnauthorized, "登录已失效，请重新登录")
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return Actor{}, Errorf(CodeUnauthorized, "登录已失效，请重新登录")
	}
	a := Actor{UserID: id, Username: c.Username, Role: c.Role, CountyID: c.CountyID, MerchantID: c.MerchantID, generation: c.Generation}
	s.tokens.put(token, a, c.ExpiresAt.Time)
	return a, nil
}

// maxCachedTokens bounds the verified-token cache; when full it starts over.
const maxCachedTokens = 50_000

// tokenCache remembers verified tokens until their expiry.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedToken
}

type cachedToken struct {
	actor Actor
	exp   time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]cachedToken{}} }

func (c *tokenCache) get(token string, now time.Time) (Actor, bool) {
	c.mu.RLock()
	t, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(t.exp) {
		return Actor{}, false
	}
	return t.actor, true
}

func (c *tokenCache) put(token string, a Actor, exp time.Time) {
	c.mu.Lock()
	if len(c.m) >= maxCachedTokens {
		clear(c.m)
	}
	c.m[token] = cachedToken{actor: a, exp: exp}
	c.mu.Unlock()
}

// LoginResult is what a successful login returns.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	User      models.User
}

// Login checks a username and password for a caller whose address is not
// known (commands, tests); the handlers use LoginFrom.
func (s *Service) Login(ctx context.Context, username, password string) (LoginResult, error) {
	return s.LoginFrom(ctx, "", username, password)
}

// LoginFrom checks a username and password sent from the client address
// client. Repeated failures for one username are rate limited
// (CodeRateLimited with RetryAfter), whoever sends them, and so are repeated
// failures from one client address, whatever usernames they name; when every
// password check is busy it is CodeUnavailable with RetryAfter.
func (s *Service) LoginFrom(ctx context.Context, client, username, password string) (LoginResult, error) {
	f := fieldErrors{}
	if username == "" || len(username) > 64 {
		f.add("username", "必填，最多 64 个字符")
	}
	if password == "" || len(password) > 128 {
		f.add("password", "必填，最多 128 个字符")
	}
	if err := f.err(); err != nil {
		return LoginResult{}, err
	}
	if err := s.clientWait(ctx, client); err != nil {
		return LoginResult{}, err
	}
	wait, err := s.logins.blocked(ctx, username, s.now())
	if err != nil {
		return LoginResult{}, err
	}
	if wait > 0 {
		return LoginResult{}, rateLimited("登录失败次数过多", wait)
	}
	u, err := s.db.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return LoginResult{}, err
	}
	var hash []byte
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else {
		hash = s.dummyHash()
	}
	failed := err != nil || u.Disabled
	if err := s.checks.run(ctx, func() error {
		// Looked at again, and counted, in the slot: the logins of one
		// address that waited for it together passed the first look before
		// any of them failed.
		if err := s.clientWait(ctx, client); err != nil {
			return err
		}
		if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
			failed = true
		}
		if failed {
			return s.clientFailed(ctx, client)
		}
		return nil
	}); err != nil {
		return LoginResult{}, err
	}
	if failed {
		// A failure that cannot be counted must not go uncounted: without
		// the record, the limit would not hold.
		if err := s.logins.fail(ctx, username, s.now()); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, Errorf(CodeUnauthorized, "用户名或密码错误")
	}
	if err := s.logins.reset(ctx, username); err != nil {
		return LoginResult{}, err
	}
	tok, exp, err := s.IssueToken(u)
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: tok, ExpiresAt: exp, User: u}, nil
}

// loginFailures is the storage of the login limiter: models.DB, behind an
// interface so tests can make it fail.
type loginFailures interface {
	RecordLoginFailure(ctx context.Context, username string, at, windowStart time.Time) error
	LoginFailuresAfter(ctx context.Context, username string, after time.Time) ([]time.Time, error)
	ClearLoginFailures(ctx context.Context, username string) error
}

// loginLimiter counts failed logins per username in a sliding window: a
// username is blocked while at least max of its failures are younger than
// window. The failures live in the database, so every instance behind the load
// balancer counts the same ones and a restart forgets none.
type loginLimiter struct {
	store  loginFailures
	max    int
	window time.Duration
}

func newLoginLimiter(store loginFailures, max int, window time.Duration) *loginLimiter {
	return &loginLimiter{store: store, max: max, window: window}
}

// blocked returns how long the username must wait, 0 when it may try: until
// the max-th most recent failure leaves the window.
func (l *loginLimiter) blocked(ctx context.Context, user string, now time.Time) (time.Duration, error) {
	// Failures are stored to the millisecond; so is the clock they are compared with.
	now = now.Truncate(time.Millisecond)
	r, err := l.store.LoginFailuresAfter(ctx, user, now.Add(-l.window))
	if err != nil {
		return 0, fmt.Errorf("login failures: %w", err)
	}
	if len(r) < l.max {
		return 0, nil
	}
	return r[len(r)-l.max].Add(l.window).Sub(now), nil
}

// fail counts a failed login of user at now, and forgets every username's
// failures that have left the window.
func (l *loginLimiter) fail(ctx context.Context, user string, now time.Time) error {
	now = now.Truncate(time.Millisecond)
	if err := l.store.RecordLoginFailure(ctx, user, now, now.Add(-l.window)); err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// reset forgets user's failures, after a successful login.
func (l *loginLimiter) reset(ctx context.Context, user string) error {
	if err := l.store.ClearLoginFailures(ctx, user); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// RandomPassword makes a readable 16-character password for the bootstrap admin.
func RandomPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
