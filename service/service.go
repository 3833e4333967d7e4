package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service/leaderboard"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
	"github.com/menqian/menqian/service/ratelimit"
)

// ScoreListener hears about every committed score change, after the commit
// (the leaderboards). It must not fail the caller: it logs and repairs itself.
type ScoreListener interface {
	// version orders the changes of one merchant's cycle (its ledger entry
	// count after the change), so a late-arriving older one is ignored; -1
	// for changes of the merchant itself (road, name, status), always applied.
	ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int)
}

// Options are the dependencies of a Service, built in cmd.
type Options struct {
	DB        *models.DB
	Policy    *policy.Policy
	Secret    []byte           // service secret (MENQIAN_SECRET or the stored generated one)
	Photos    photostore.Store // where evidence photos are kept
	PublicURL string
	Clock     func() time.Time // nil: time.Now
	Logger    *slog.Logger
	Board     leaderboard.Board // rankings; nil: SQL only
	// PasswordCost is the bcrypt cost of stored passwords; 0: bcrypt.DefaultCost.
	// Tests use bcrypt.MinCost: under -race a default-cost hash takes most
	// of a second.
	PasswordCost int
	// Limiter keeps the login limit per client address: shared through Redis
	// when it is configured; nil: this instance's memory.
	Limiter ratelimit.Limiter
}

// Service is menqian's business layer; handlers call its methods with an Actor.
type Service struct {
	db        *models.DB
	policy    *policy.Policy
	tokenKey  []byte
	tokens    *tokenCache // verified login tokens
	plaques   *qrcodes.Signer
	photos    photostore.Store
	publicURL string
	clock     func() time.Time
	log       *slog.Logger
	scores    ScoreListener
	board     leaderboard.Board
	logins    *loginLimiter
	limits    ratelimit.Limiter // failed logins per client address (login.go)
	checks    *passwordChecks   // password checks running at once (login.go)
	profiles  *profileCache     // public plaque profiles, by county version
	// profileReads are the profile reads in flight (ProfileByToken).
	profileReads singleflight.Group
	parsedMu     sync.RWMutex
	parsed       map[string]parsedPlaque // plaque tokens found valid (parsePlaque)
	pages        *boardMemo              // the last lines of each leaderboard page, with their stars
	active       *activeCache            // accounts recently found enabled
	known        sync.Map                // county and road ids seen to exist (never deleted) → county id
	recorder     *recorder               // inspections, committed in batches
	views        *countyViews            // each county's evaluation of its open cycles, by change version
	cityCounties atomic.Pointer[[]int64] // the counties of the last city ranking read (lastViewsIfDown)
	versions     *versionReader
	frozen       frozenCache   // what closed cycles froze, which never changes
	hashCost     int           // bcrypt cost of stored passwords; 0: the default
	dummyHash    func() []byte // what logins of unknown users are checked against

}

// New builds a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Board == nil {
		o.Board = leaderboard.NewSQL(o.DB, o.Policy)
	}
	if o.Limiter == nil {
		o.Limiter = ratelimit.NewMemory(maxLimitKeys)
	}
	s := &Service{
		db: o.DB, policy: o.Policy, tokenKey: tokenKey(o.Secret), plaques: qrcodes.NewSigner(o.Secret),
		photos: o.Photos, publicURL: o.PublicURL, clock: o.Clock, log: o.Logger, board: o.Board, limits: o.Limiter, checks: newPasswordChecks(),
		logins: newLoginLimiter(o.DB, 5, 15*time.Minute), profiles: newProfileCache(), parsed: map[string]parsedPlaque{}, pages: newBoardMemo(), active: newActiveCache(),
		tokens: newTokenCache(), views: newCountyViews(), versions: newVersionReader(o.DB), hashCost: o.PasswordCost, dummyHash: newDummyHash(o.PasswordCost),
	}
	s.scores = notifier{s: s, next: o.Board}
	_, sqlOnly := o.Board.(*leaderboard.SQL)
	s.board = viewBoard{s: s, next: o.Board, redisTop: !sqlOnly}
	lanes := recordLanesMySQL
	if o.DB != nil && o.DB.Dialect() == models.SQLite {
		lanes = recordLanesSQLite
	}
	s.recorder = newRecorder(lanes, recordMaxBatch, s.recordBatch)
	return s
}

// Policy returns the scoring policy in force.
func (s *Service) Policy() *policy.Policy { return s.policy }

// DB returns the storage handle (for operational commands).
func (s *Service) DB() *models.DB { return s.db }

func (s *Service) now() time.Time { return s.clock().UTC() }

// LoadSecret returns the configured secret, or the one generated at first start
// and stored in the database so every instance and restart agrees.
func LoadSecret(ctx context.Context, db *models.DB, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	v, err := db.SettingOrCreate(ctx, "secret", hex.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("load secret: %w", err)
	}
	return hex.DecodeString(v)
}

// Bootstrap creates the city admin `admin` when the database has no users.
// With an empty password it generates one; the password is returned so the
// caller can print it once. created is false when users already existed.
func (s *Service) Bootstrap(ctx context.Context, password string) (generated string, created bool, err error) {
	n, err := s.db.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	pw := password
	if pw == "" {
		if pw, err = RandomPassword(); err != nil {
			return "", false, err
		}
	} else if p := passwordProblem(pw, "admin"); p != "" {
		return "", false, fmt.Errorf("MENQIAN_ADMIN_PASSWORD: %s", p)
	}
	hash, err := s.hashPassword(pw)
	if err != nil {
		return "", false, err
	}
	err = s.db.CreateUser(ctx, &models.User{Username: "admin", PasswordHash: hash, Role: RoleCityAdmin, DisplayName: "市级管理员"})
	if errors.Is(err, models.ErrDuplicate) {
		return "", false, nil // another instance won the race
	}
	if err != nil {
		return "", false, err
	}
	if password == "" {
		return pw, true, nil
	}
	return "", true, nil
}

// storeErr turns storage errors into service errors: not found and duplicates
// become user-facing codes, anything else stays internal.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, models.ErrNotFound):
		return errNotFound
	case errors.Is(err, models.ErrDuplicate):
		return &Error{Code: CodeDuplicate, Message: what + "已存在", Err: err}
	case errors.Is(err, models.ErrReference):
		return &Error{Code: CodeInvalid, Message: "引用的对象不存在", Err: err}
	}
	return err
}

// Paging is a bounded page request.
type Paging struct {
	Limit, Offset int
}

// MaxPage bounds every list.
const MaxPage = 100

func (p Paging) check() (Paging, error) {
	f := fieldErrors{}
	if p.Limit == 0 {
		p.Limit = 20
	}
	if p.Limit < 1 || p.Limit > MaxPage {
		f.add("limit", fmt.Sprintf("应在 1 到 %d 之间", MaxPage))
	}
	if p.Offset < 0 || p.Offset > 1_000_000 {
		f.add("offset", "应在 0 到 1000000 之间")
	}
	return p, f.err()
}
