package leaderboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// Redis is the Board kept in Redis sorted sets and answered from them while
// they are complete; otherwise (a cycle not built yet, lost to a flush or a
// restart, or a failed write) it answers from SQL until a rebuild succeeds.
//
// Layout of one cycle, P being the prefix, C the cycle, K a county id:
//
//	P:{city}:C:city      zset  code → −score, every active merchant
//	P:{city}:C:meta      hash  code → "id:name", for pages without a database query
//	P:{city}:C:ready     string, present while the cycle's sets are complete
//	P:{city}:C:lock      string, the rebuild lock (token)
//	P:{city}:C:epoch     int, bumped by every invalidation
//	P:{city}:C:dirty     set of codes changed while a rebuild runs
//	P:{city}:C:ver       hash  g → the last rebuild's token, n → writes since: the city keys' version
//	P:{city}:C:versions  hash  code → version of the last change written to the city keys
//	P:{c:K}:C:county     zset  code → −score, the county's active merchants
//	P:{c:K}:C:road:R     zset  code → −score, road R's active merchants
//	P:{c:K}:C:roads      hash  s:R → sum of road R's live scores, n:R → its merchants
//	P:{c:K}:C:roadof     hash  code → road id, to move merchants between roads
//	P:{c:K}:C:meta       hash  code → "id:name" of the county's active merchants
//	P:{c:K}:C:ver        hash  g, n as above: the version of the county's keys
//	P:{c:K}:C:versions   hash  code → version of the last change written to the county's keys
//
// Scores are stored negated so that ascending order is score descending and,
// within equal scores, code ascending (Redis orders equal scores by member).
// Every multi-key script stays within one hash tag; that is why the county
// keeps its own copy of its merchants' meta: a page of a county or road is
// one script over the county's keys, in the same round trip as the ready check.
//
// Every change to the keys of a hash tag changes its version, in the same
// script as the change (or, for a rebuild, in the same pipeline after its
// renames), so that a page read can tell, in one cheap script, that the page
// it read last is still what the sets hold (see pages.go).
type Redis struct {
	rdb    redis.UniversalClient
	db     *models.DB
	policy *policy.Policy
	sql    *SQL
	log    *slog.Logger
	prefix string
	clock  func() time.Time

	lockTTL   time.Duration
	opTimeout time.Duration
	heldAge   time.Duration // maxHeldAge; shorter in tests

	mu    sync.Mutex
	stale map[string]uint64 // cycles whose Redis state this instance could not keep right → their last mark
	marks uint64            // stale marks so far: tells a mark made during a rebuild from one made before

	downUntil  atomic.Int64 // unix ms until which reads skip Redis after an error
	kick       chan struct{}
	roadCounty sync.Map // road id → county id; a road never changes county
	pages      pageReads
}

// Option adjusts a Redis board.
type Option func(*Redis)

// WithPrefix sets the key prefix (default "lb"), so that deployments or tests
// can share one Redis.
func WithPrefix(p string) Option { return func(r *Redis) { r.prefix = p } }

// WithClock sets the clock that decides the current cycle (default time.Now).
func WithClock(c func() time.Time) Option { return func(r *Redis) { r.clock = c } }

// WithLockTTL sets how long the rebuild lock lives without renewal (default 30s).
func WithLockTTL(d time.Duration) Option { return func(r *Redis) { r.lockTTL = d } }

// NewRedis returns the Redis board over rdb, falling back to db.
func NewRedis(rdb redis.UniversalClient, db *models.DB, p *policy.Policy, log *slog.Logger, opts ...Option) *Redis {
	if log == nil {
		log = slog.Default()
	}
	r := &Redis{
		rdb: rdb, db: db, policy: p, sql: newSQL(db, p), log: log, prefix: "lb", clock: time.Now,
		lockTTL: 30 * time.Second, opTimeout: 2 * time.Second, heldAge: maxHeldAge,
		stale: map[string]uint64{}, kick: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Connect opens the Redis named by a redis:// URL and checks that it answers.
func Connect(url string) (redis.UniversalClient, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	opt.ContextTimeoutEnabled = true
	if !strings.Contains(url, "protocol=") {
		// RESP2: menqian uses no push notifications, and RESP3 makes the
		// client look for them around every reply (about 5% of a page read).
		opt.Protocol = 2
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", opt.Addr, err)
	}
	return c, nil
}

// keys names the keys of one cycle.
type keys struct{ p, cycle string }

func (r *Redis) keys(cycle string) keys { return keys{r.prefix, cycle} }

func (k keys) city() string  { return k.p + ":{city}:" + k.cycle + ":city" }
func (k keys) meta() string  { return k.p + ":{city}:" + k.cycle + ":meta" }
func (k keys) ready() string { return k.p + ":{city}:" + k.cycle + ":ready" }
func (k keys) lock() string  { return k.p + ":{city}:" + k.cycle + ":lock" }
func (k keys) epoch() string { return k.p + ":{city}:" + k.cycle + ":epoch" }
func (k keys) dirty() string { return k.p + ":{city}:" + k.cycle + ":dirty" }
func (k keys) ver() string   { return k.p + ":{city}:" + k.cycle + ":ver" }

// versions holds each merchant's last applied change version (not rebuilt:
// the database the rebuild reads is newer than any version it had).
func (k keys) versions() string { return k.p + ":{city}:" + k.cycle + ":versions" }

func (k keys) countyTag(c int64) string {
	return k.p + ":{c:" + strconv.FormatInt(c, 10) + "}:" + k.cycle
}
func (k keys) county(c int64) string     { return k.countyTag(c) + ":county" }
func (k keys) roads(c int64) string      { return k.countyTag(c) + ":roads" }
func (k keys) roadOf(c int64) string     { return k.countyTag(c) + ":roadof" }
func (k keys) countyMeta(c int64) string { return k.countyTag(c) + ":meta" }
func (k keys) countyVer(c int64) string  { return k.countyTag(c) + ":ver" }
func (k keys) road(c, road int64) string {
	return k.countyTag(c) + ":road:" + strconv.FormatInt(road, 10)
}

// countyVersions is versions for the county's keys, which a change reaches
// after the city keys, in a script of its own.
func (k keys) countyVersions(c int64) string { return k.countyTag(c) + ":versions" }

// expireAt is when a cycle's keys go: after the grace period of the following
// cycle, so last month's ranking stays served while it can still change.
func (r *Redis) expireAt(cycle string) (time.Time, error) {
	c, err := policy.ParseCycle(cycle)
	if err != nil {
		return time.Time{}, err
	}
	return r.policy.GraceEnd(c.Next()), nil
}

// usable reports whether reads of the cycle may try Redis.
func (r *Redis) usable(cycle string) bool {
	if time.Now().UnixMilli() < r.downUntil.Load() {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, stale := r.stale[cycle]
	return !stale
}

// readFailed logs a failed read and keeps reads off Redis for a moment, so a
// hanging server does not slow every request.
func (r *Redis) readFailed(op string, err error) {
	r.log.Warn("leaderboard: redis read failed, answering from SQL", "op", op, "err", err)
	r.downUntil.Store(time.Now().Add(time.Second).UnixMilli())
}

// notReady asks Run to rebuild soon.
func (r *Redis) notReady() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// countyOf returns the county of the scope's sets.
func (r *Redis) countyOf(ctx context.Context, s Scope) (int64, error) {
	if s.Kind != Road || s.CountyID != 0 {
		return s.CountyID, nil
	}
	if c, ok := r.roadCounty.Load(s.RoadID); ok {
		return c.(int64), nil
	}
	road, err := r.db.RoadByID(ctx, s.RoadID)
	if err != nil {
		return 0, err
	}
	r.roadCounty.Store(road.ID, road.CountyID)
	return road.CountyID, nil
}

// scopeKey is the sorted set of the scope.
func (r *Redis) scopeKey(ctx context.Context, k keys, s Scope) (string, error) {
	set, _, _, err := r.scopeKeys(ctx, k, s)
	return set, err
}

// scopeKeys are the sorted set of the scope, and the meta and version hashes
// of its hash tag.
func (r *Redis) scopeKeys(ctx context.Context, k keys, s Scope) (set, meta, ver string, err error) {
	switch s.Kind {
	case County:
		return k.county(s.CountyID), k.countyMeta(s.CountyID), k.countyVer(s.CountyID), nil
	case Road:
		c, err := r.countyOf(ctx, s)
		if err != nil {
			return "", "", "", err
		}
		return k.road(c, s.RoadID), k.countyMeta(c), k.countyVer(c), nil
	}
	return k.city(), k.meta(), k.ver(), nil
}

func (r *Redis) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.opTimeout)
}

// Top implements Board.
func (r *Redis) Top(ctx context.Context, cycle string, s Scope, limit, offset int) ([]Entry, int, error) {
	if err := s.check(); err != nil {
		return nil, 0, err
	}
	limit, offset = clampPage(limit, offset)
	if !r.usable(cycle) {
		return r.sql.Top(ctx, cycle, s, limit, offset)
	}
	k := r.keys(cycle)
	set, meta, ver, err := r.scopeKeys(ctx, k, s)
	if errors.Is(err, models.ErrNotFound) {
		return []Entry{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	items, total, ok := r.top(ctx, k, set, meta, ver, limit, offset)
	if !ok {
		return r.sql.Top(ctx, cycle, s, limit, offset)
	}
	return items, total, nil
}

// positionScript returns {rank, of} of member ARGV[1] in the set KEYS[1]:
// rank 0 when absent, else 1 + how many score strictly better.
var positionScript = redis.NewScript(`
local n = redis.call('ZCARD', KEYS[1])
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s then return {0, n} end
return {redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. s) + 1, n}
`)

// Position implements Board.
func (r *Redis) Position(ctx context.Context, cycle string, s Scope, m models.Merchant) (Position, error) {
	if err := s.check(); err != nil {
		return Position{}, err
	}
	if !r.usable(cycle) {
		return r.sql.Position(ctx, cycle, s, m)
	}
	k := r.keys(cycle)
	key, err := r.scopeKey(ctx, k, s)
	if errors.Is(err, models.ErrNotFound) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, err
	}
	code := m.Code
	if !ranksIn(m, s, time.Time{}) { // the sets hold the running cycle's active merchants
		code = "" // not ranked there: only the count is wanted
	}
	octx, cancel := r.opCtx(ctx)
	defer cancel()
	pipe := r.rdb.Pipeline()
	ready := pipe.Exists(octx, k.ready())
	pos := positionScript.Eval(octx, pipe, []string{key}, code)
	if _, err := pipe.Exec(octx); err != nil {
		r.readFailed("position", err)
		return r.sql.Position(ctx, cycle, s, m)
	}
	if ready.Val() == 0 {
		r.notReady()
		return r.sql.Position(ctx, cycle, s, m)
	}
	v, err := pos.Int64Slice()
	if err != nil || len(v) != 2 {
		r.readFailed("position", fmt.Errorf("position script answered %v: %v", pos.Val(), err))
		return r.sql.Position(ctx, cycle, s, m)
	}
	return Position{Rank: int(v[0]), Of: int(v[1])}, nil
}

// Roads implements Board.
func (r *Redis) Roads(ctx context.Context, cycle string, countyID int64) ([]RoadEntry, error) {
	if countyID <= 0 || !r.usable(cycle) {
		return r.sql.Roads(ctx, cycle, countyID)
	}
	roads, err := r.db.BoardRoads(ctx, countyID)
	if err != nil {
		return nil, err
	}
	k := r.keys(cycle)
	octx, cancel := r.opCtx(ctx)
	defer cancel()
	pipe := r.rdb.Pipeline()
	ready := pipe.Exists(octx, k.ready())
	agg := pipe.HGetAll(octx, k.roads(countyID))
	if _, err := pipe.Exec(octx); err != nil {
		r.readFailed("roads", err)
		return r.sql.Roads(ctx, cycle, countyID)
	}
	if ready.Val() == 0 {
		r.notReady()
		return r.sql.Roads(ctx, cycle, countyID)
	}
	tallies := map[int64]models.RoadTally{}
	for f, v := range agg.Val() {
		kind, id, _ := strings.Cut(f, ":")
		road, err1 := strconv.ParseInt(id, 10, 64)
		n, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		t := tallies[road]
		t.RoadID = road
		switch kind {
		case "s":
			t.Total = n
		case "n":
			t.Merchants = int(n)
		}
		tallies[road] = t
	}
	return rankRoads(roads, tallies), nil
}

// change is one merchant's state to write into a cycle's sets.
type change struct {
	id               int64
	code, name       string
	countyID, roadID int64
	active           bool
	score            int
	version          int // -1: unordered, always applied
}

func changeOf(m models.Merchant, score, version int) change {
	return change{id: m.ID, code: m.Code, name: m.Name, countyID: m.CountyID, roadID: m.RoadID, active: m.Status == "active",
		score: score, version: version}
}

// cityScript writes a merchant into the city set and the meta hash, and notes
// it as dirty while a rebuild runs. It returns 0 without writing when the cycle
// is neither ready nor being built: the next rebuild reads the database anyway.
// A versioned change older than the merchant's last applied one (two
// commits whose notifications crossed) returns 2 and writes nothing.
// Any write bumps the city keys' version.
// KEYS: ready, lock, city, meta, dirty, versions, ver. ARGV: code, active,
// −score, meta, expire ms, version (-1: unordered).
var cityScript = redis.NewScript(`
local building = redis.call('EXISTS', KEYS[2]) == 1
if not building and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = tonumber(ARGV[6])
if v >= 0 then
  local seen = tonumber(redis.call('HGET', KEYS[6], ARGV[1]) or '-1')
  if v < seen then return 2 end
  redis.call('HSET', KEYS[6], ARGV[1], v)
  redis.call('PEXPIREAT', KEYS[6], ARGV[5])
end
if building then
  redis.call('SADD', KEYS[5], ARGV[1])
  redis.call('PEXPIREAT', KEYS[5], ARGV[5])
end
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
end
redis.call('HINCRBY', KEYS[7], 'n', 1)
for _, i in ipairs({3, 4, 7}) do redis.call('PEXPIREAT', KEYS[i], ARGV[5]) end
return 1
`)

// countyScript moves a merchant within its county's sets: out of the road it
// was on (ARGV[5], checked against the roadof hash; -1 when it changed
// meanwhile), into its road now, and keeps the road sums right.
// It also keeps the county's copy of the merchant's meta, and bumps the
// county keys' version. (0 - x and x + 0, not -x and x: a Lua −0 reaches
// HINCRBY as "-0", which is not an integer.)
// Like cityScript it returns 2 and writes nothing for a versioned change
// older than the last one written: two changes that passed cityScript in
// order may still reach the county keys in the other order.
// KEYS: county, roads, roadof, new road set, old road set, county meta, ver,
// versions. ARGV: code, active, −score, new road id, old road id or "",
// expire ms, meta, version (-1: unordered).
var countyScript = redis.NewScript(`
local code = ARGV[1]
local v = tonumber(ARGV[8])
if v >= 0 and v < tonumber(redis.call('HGET', KEYS[8], code) or '-1') then return 2 end
local cur = redis.call('HGET', KEYS[3], code) or ''
if cur ~= ARGV[5] then return -1 end
local old = redis.call('ZSCORE', KEYS[1], code)
if old and cur ~= '' then
  redis.call('ZREM', KEYS[5], code)
  redis.call('HINCRBY', KEYS[2], 's:' .. cur, tonumber(old) + 0)
  redis.call('HINCRBY', KEYS[2], 'n:' .. cur, -1)
end
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[3], code)
  redis.call('ZADD', KEYS[4], ARGV[3], code)
  redis.call('HINCRBY', KEYS[2], 's:' .. ARGV[4], 0 - tonumber(ARGV[3]))
  redis.call('HINCRBY', KEYS[2], 'n:' .. ARGV[4], 1)
  redis.call('HSET', KEYS[3], code, ARGV[4])
  redis.call('HSET', KEYS[6], code, ARGV[7])
else
  redis.call('ZREM', KEYS[1], code)
  redis.call('HDEL', KEYS[3], code)
  redis.call('HDEL', KEYS[6], code)
end
if v >= 0 then redis.call('HSET', KEYS[8], code, v) end
redis.call('HINCRBY', KEYS[7], 'n', 1)
for i = 1, 8 do redis.call('PEXPIREAT', KEYS[i], ARGV[6]) end
return 1
`)

// ScoreChanged implements Board and service.ScoreListener: it writes the
// merchant's absolute score (or its removal, when closed) after the database
// committed it. A failure is logged and the cycle marked stale, never returned.
func (r *Redis) ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int) {
	if !r.usable(cycle) {
		// Redis failed a moment ago or the cycle is stale here: the rebuild
		// that repairs it reads this change from the database, and the
		// inspection need not wait for a server that is down.
		r.setStale(cycle)
		return
	}
	ctx = context.WithoutCancel(ctx) // the change is committed: write it even if the request ends
	octx, cancel := r.opCtx(ctx)
	err := r.apply(octx, r.keys(cycle), changeOf(m, score, version))
	cancel()
	if err != nil {
		r.log.Error("leaderboard: redis update failed; answering from SQL until rebuilt",
			"merchant", m.ID, "cycle", cycle, "err", err)
		r.downUntil.Store(time.Now().Add(time.Second).UnixMilli())
		octx, cancel := r.opCtx(ctx)
		r.markStale(octx, cycle)
		cancel()
	}
}

// apply writes one merchant's state: the city keys first, so that a rebuild
// running meanwhile knows to write it again after renaming its sets.
func (r *Redis) apply(ctx context.Context, k keys, c change) error {
	exp, err := r.expireAt(k.cycle)
	if err != nil {
		return err
	}
	active, neg := "0", strconv.Itoa(-c.score)
	if c.active {
		active = "1"
	}
	expMs := exp.UnixMilli()
	meta := strconv.FormatInt(c.id, 10) + ":" + c.name
	live, err := cityScript.Run(ctx, r.rdb, []string{k.ready(), k.lock(), k.city(), k.meta(), k.dirty(), k.versions(), k.ver()},
		c.code, active, neg, meta, expMs, c.version).Int()
	if err != nil || live == 0 || live == 2 {
		return err
	}
	newRoad := k.road(c.countyID, c.roadID)
	for range 5 {
		old, err := r.rdb.HGet(ctx, k.roadOf(c.countyID), c.code).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		oldRoad := newRoad
		if old != "" {
			id, err := strconv.ParseInt(old, 10, 64)
			if err != nil {
				return fmt.Errorf("roadof %s = %q: %w", c.code, old, err)
			}
			oldRoad = k.road(c.countyID, id)
		}
		res, err := countyScript.Run(ctx, r.rdb,
			[]string{k.county(c.countyID), k.roads(c.countyID), k.roadOf(c.countyID), newRoad, oldRoad, k.countyMeta(c.countyID),
				k.countyVer(c.countyID), k.countyVersions(c.countyID)},
			c.code, active, neg, c.roadID, old, expMs, meta, c.version).Int()
		if err != nil || res != -1 { // written, or older than the last change written
			return err
		}
	}
	return fmt.Errorf("merchant %s: road kept changing during the update", c.code)
}

// markStale stops this instance from reading the cycle from Redis and tries
// to invalidate it for every instance; Run repairs it.
func (r *Redis) markStale(ctx context.Context, cycle string) {
	if err := r.invalidate(ctx, cycle); err == nil {
		r.notReady()
		return
	}
	r.setStale(cycle)
}

// setStale keeps this instance's reads of the cycle on SQL until Run has
// invalidated it in Redis and a rebuild succeeded.
func (r *Redis) setStale(cycle string) {
	r.mu.Lock()
	r.marks++
	r.stale[cycle] = r.marks
	r.mu.Unlock()
	r.notReady()
}

// staleMarks is the count of stale marks made so far.
func (r *Redis) staleMarks() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.marks
}

// clearStale lets this instance read the cycle from Redis again, unless it
// was marked stale again after mark upTo: a change skipped after a rebuild
// read the database, or after an invalidation, may be missing from the sets
// of that rebuild, or of the rebuild that follows the invalidation.
func (r *Redis) clearStale(cycle string, upTo uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.stale[cycle]; ok && m <= upTo {
		delete(r.stale, cycle)
	}
}

// invalidate makes every instance read the cycle from SQL until a rebuild
// started after it completes: it drops the ready marker and bumps the epoch,
// which a rebuild already running checks before it declares itself ready.
func (r *Redis) invalidate(ctx context.Context, cycle string) error {
	k := r.keys(cycle)
	exp, err := r.expireAt(cycle)
	if err != nil {
		return err
	}
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, k.epoch())
		p.PExpireAt(ctx, k.epoch(), exp)
		p.Del(ctx, k.ready())
		return nil
	})
	return err
}
