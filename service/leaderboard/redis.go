package leaderboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
//
// The changes heard after commits are written by one goroutine from a bounded
// queue (see ScoreChanged and writes): the caller waits for its change at most
// writeWait, and not at all while Redis is known to be down, so a dead or
// hanging Redis never holds an inspection for long. A change that cannot be
// written (Redis down, queue full) marks the cycle stale: reads answer from
// SQL until Run has rebuilt it.
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
	writeWait time.Duration // how long ScoreChanged waits for its change to be written
	queueMax  int           // changes waiting to be written; past it they are dropped

	mu    sync.Mutex
	stale map[string]uint64 // cycles whose Redis state this instance could not keep right → their last mark
	marks uint64            // stale marks so far: tells a mark made during a rebuild from one made before

	out        outage // whether Redis answers; logs an outage once
	w          writes // the changes waiting for Redis
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

// WithWriteQueue sets how many changes may wait for Redis (default 10000) and
// how long the caller of ScoreChanged waits for its own (default 500ms).
func WithWriteQueue(size int, wait time.Duration) Option {
	return func(r *Redis) { r.queueMax, r.writeWait = size, wait }
}

// Timeouts of the Redis client and of the board's calls: a Redis that is
// gone or hangs must cost a request little, and the board then answers from
// SQL (the defaults of go-redis add up to seconds: a 5 s dial tried 5 times,
// with up to 3 retries of the command). A read's or a write's socket timeout
// stays go-redis's 5 s, for a rebuild's pipelines (renaming sets of a million
// merchants); every call of the board for a request has the opTimeout
// deadline in its context, which go-redis applies to the socket too.
const (
	dialTimeout = 500 * time.Millisecond
	poolTimeout = time.Second            // waiting for a free connection
	opTimeout   = time.Second            // one call of the board, retries included
	retryEvery  = time.Second            // while Redis is down, Run tries it this often
	queueSize   = 10000                  // changes waiting for the writer
	writeWait   = 500 * time.Millisecond // how long ScoreChanged waits for its change
)

// NewRedis returns the Redis board over rdb, falling back to db.
func NewRedis(rdb redis.UniversalClient, db *models.DB, p *policy.Policy, log *slog.Logger, opts ...Option) *Redis {
	if log == nil {
		log = slog.Default()
	}
	r := &Redis{
		rdb: rdb, db: db, policy: p, sql: newSQL(db, p), log: log, prefix: "lb", clock: time.Now,
		lockTTL: 30 * time.Second, opTimeout: opTimeout, heldAge: maxHeldAge, writeWait: writeWait, queueMax: queueSize,
		stale: map[string]uint64{}, kick: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(r)
	}
	r.out.log = r.log
	r.w.progress = make(chan struct{})
	return r
}

// Connect opens the Redis named by url and checks that it answers: one
// server (redis:// or rediss://, see go-redis's ParseURL), or a Redis Cluster
// (redis+cluster:// or rediss+cluster://, see ParseClusterURL). Every key of
// the board shares a hash tag per county, the city or the rate limits, so
// every script and transaction stays in one slot of a cluster.
func Connect(url string) (redis.UniversalClient, error) {
	var (
		c     redis.UniversalClient
		addrs string
	)
	if clusterURL(url) {
		opt, err := ParseClusterURL(url)
		if err != nil {
			return nil, err
		}
		failFast(&opt.ContextTimeoutEnabled, &opt.DialerRetries, &opt.MaxRetries, &opt.Protocol, &opt.DialTimeout, &opt.PoolTimeout)
		c, addrs = redis.NewClusterClient(opt), strings.Join(opt.Addrs, ",")
	} else {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		failFast(&opt.ContextTimeoutEnabled, &opt.DialerRetries, &opt.MaxRetries, &opt.Protocol, &opt.DialTimeout, &opt.PoolTimeout)
		c, addrs = redis.NewClient(opt), opt.Addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", addrs, err)
	}
	return c, nil
}

// failFast sets a client's options (of one server or of a cluster) so that a
// dead Redis costs little, unless the URL says otherwise: the context's
// deadline on the socket, one dial per attempt, one retry (a pooled
// connection the server closed), short dial and pool timeouts; and RESP2:
// menqian uses no push notifications, and RESP3 makes the client look for
// them around every reply (about 5% of a page read).
func failFast(ctxTimeout *bool, dialerRetries, maxRetries, protocol *int, dial, pool *time.Duration) {
	*ctxTimeout, *dialerRetries = true, 1
	*maxRetries, *protocol = cmp.Or(*maxRetries, 1), cmp.Or(*protocol, 2)
	*dial, *pool = cmp.Or(*dial, dialTimeout), cmp.Or(*pool, poolTimeout)
}

// clusterURL reports whether url names a Redis Cluster.
func clusterURL(url string) bool {
	return strings.HasPrefix(url, "redis+cluster://") || strings.HasPrefix(url, "rediss+cluster://")
}

// ParseClusterURL reads a cluster URL, [redis|rediss]+cluster://[user:password@]host:port[,host:port…][/][?options],
// into go-redis's options: the hosts are the seeds the client learns the
// cluster from, the options those of go-redis's ParseClusterURL (addr=
// adds seeds too). A cluster has only database 0.
func ParseClusterURL(url string) (*redis.ClusterOptions, error) {
	scheme, rest, _ := strings.Cut(url, "+cluster://")
	rest, query, _ := strings.Cut(rest, "?")
	user, hosts := "", rest
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, hosts = rest[:at+1], rest[at+1:]
	}
	hosts, path, _ := strings.Cut(hosts, "/")
	if path != "" && path != "0" {
		return nil, fmt.Errorf("redis cluster url: a cluster has only database 0, not %q", path)
	}
	var seeds []string
	for _, h := range strings.Split(hosts, ",") {
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return nil, fmt.Errorf("redis cluster url: want host:port[,host:port…], got %q", h)
		}
		seeds = append(seeds, h)
	}
	q := query
	for _, s := range seeds[1:] {
		q += "&addr=" + s
	}
	opt, err := redis.ParseClusterURL(scheme + "://" + user + seeds[0] + "?" + strings.TrimPrefix(q, "&"))
	if ue := (*neturl.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // without the URL, which holds the password
	}
	if err != nil {
		return nil, fmt.Errorf("redis cluster url: %w", err)
	}
	return opt, nil
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

// usable reports whether reads of the cycle may try Redis: it answers, every
// change this instance heard is in it, and the cycle is not stale here.
func (r *Redis) usable(cycle string) bool {
	return !r.out.isDown() && !r.w.lagging.Load() && !r.isStale(cycle)
}

// isStale reports whether this instance knows the cycle's sets to miss a change.
func (r *Redis) isStale(cycle string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, stale := r.stale[cycle]
	return stale
}

// readFailed notes a failed read that began at started: reads stay off Redis
// until Run finds it answering again.
func (r *Redis) readFailed(op string, started time.Time, err error) {
	if !unreachable(err) {
		r.log.Warn("leaderboard: redis read failed, answering from SQL", "op", op, "err", err)
		return
	}
	r.out.failed(op, started, err)
	r.notReady()
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
	started := time.Now()
	pipe := r.rdb.Pipeline()
	ready := pipe.Exists(octx, k.ready())
	pos := positionScript.Eval(octx, pipe, []string{key}, code)
	if _, err := pipe.Exec(octx); err != nil {
		r.readFailed("position", started, err)
		return r.sql.Position(ctx, cycle, s, m)
	}
	r.out.answered(started)
	if ready.Val() == 0 {
		r.notReady()
		return r.sql.Position(ctx, cycle, s, m)
	}
	v, err := pos.Int64Slice()
	if err != nil || len(v) != 2 {
		r.readFailed("position", started, fmt.Errorf("position script answered %v: %v", pos.Val(), err))
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
	started := time.Now()
	pipe := r.rdb.Pipeline()
	ready := pipe.Exists(octx, k.ready())
	agg := pipe.HGetAll(octx, k.roads(countyID))
	if _, err := pipe.Exec(octx); err != nil {
		r.readFailed("roads", started, err)
		return r.sql.Roads(ctx, cycle, countyID)
	}
	r.out.answered(started)
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

// ScoreChanged implements Board and service.ScoreListener: it queues the
// merchant's absolute score (or its removal, when closed), committed in the
// database, for the writer, and waits for it to be written at most writeWait
// (so that a read right after, on any instance, sees it), and not at all while
// Redis is down or the writer behind. What cannot be written marks the cycle
// stale; nothing is returned.
func (r *Redis) ScoreChanged(ctx context.Context, m models.Merchant, cycle string, score, version int) {
	defer r.w.held(time.Now())
	if r.out.isDown() || r.isStale(cycle) {
		// Redis is down or the cycle is stale here: the rebuild that repairs
		// it reads this change from the database.
		r.w.dropped.Add(1)
		r.setStale(cycle)
		return
	}
	// The change is committed: it is written even if the request ends.
	q := queued{ctx: context.WithoutCancel(ctx), cycle: cycle, change: changeOf(m, score, version)}
	seq, start, ok := r.w.push(q, r.queueMax)
	if !ok {
		r.w.overflow.Add(1)
		if r.w.full.CompareAndSwap(false, true) {
			r.log.Warn("leaderboard: redis write queue full; dropping changes, answering from SQL until rebuilt",
				"cycle", cycle, "queue", r.queueMax)
		}
		r.setStale(cycle)
		return
	}
	if start {
		go r.drain()
	}
	r.w.wait(ctx, seq, r.writeWait, r.out.isDown)
}

// queued is one change waiting for Redis.
type queued struct {
	ctx    context.Context // the request's values, for the log; never cancelled
	cycle  string
	change change
	seq    uint64
}

// writes is the queue of changes heard after commits. One goroutine (drain)
// writes them in order while any wait, then ends; the next change starts
// another.
type writes struct {
	mu       sync.Mutex
	queue    []queued
	writing  bool
	heard    uint64        // sequence of the last change queued
	done     uint64        // sequence of the last change written or dropped
	progress chan struct{} // closed (and replaced) when done moves

	// lagging is set when a caller stopped waiting for its change, and
	// cleared when the queue is empty again: meanwhile reads skip Redis,
	// which may miss changes this instance has answered.
	lagging atomic.Bool
	full    atomic.Bool // the queue overflowed since it was last empty: logged once

	written, dropped, overflow, late atomic.Uint64
	longest                          atomic.Int64 // the longest a caller spent in ScoreChanged, ns
}

// held notes the time a caller spent in ScoreChanged since start.
func (w *writes) held(start time.Time) {
	d := int64(time.Since(start))
	for {
		cur := w.longest.Load()
		if d <= cur || w.longest.CompareAndSwap(cur, d) {
			return
		}
	}
}

// push queues q unless max changes wait already; start says that no writer
// runs, so the caller must start one.
func (w *writes) push(q queued, max int) (seq uint64, start, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) >= max {
		return 0, false, false
	}
	w.heard++
	q.seq = w.heard
	w.queue = append(w.queue, q)
	start = !w.writing
	w.writing = true
	return q.seq, start, true
}

// take returns the changes queued so far, or none when the queue is empty,
// in which case the writer ends.
func (w *writes) take() []queued {
	w.mu.Lock()
	defer w.mu.Unlock()
	batch := w.queue
	w.queue = nil
	if len(batch) == 0 {
		w.writing = false
		w.lagging.Store(false)
		w.full.Store(false)
	}
	return batch
}

// finished records that the change seq was written or dropped.
func (w *writes) finished(seq uint64) {
	w.mu.Lock()
	w.done = seq
	close(w.progress)
	w.progress = make(chan struct{})
	w.mu.Unlock()
}

// wait waits until change seq is written or dropped, at most d, while down
// says Redis is not known to be down and the writer is not behind. A wait
// that ends early leaves reads on SQL until the writer has caught up.
func (w *writes) wait(ctx context.Context, seq uint64, d time.Duration, down func() bool) {
	var timeout <-chan time.Time
	for {
		w.mu.Lock()
		if w.done >= seq {
			w.mu.Unlock()
			return
		}
		if timeout != nil && (down() || w.lagging.Load()) {
			w.mu.Unlock()
			return // the writer is already known to be behind
		}
		progress := w.progress
		w.mu.Unlock()
		if timeout == nil {
			if down() || w.lagging.Load() {
				return
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-progress:
		case <-timeout:
			w.behind(seq)
			return
		case <-ctx.Done():
			w.behind(seq)
			return
		}
	}
}

// behind notes that a caller stopped waiting before change seq was written.
func (w *writes) behind(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done < seq { // not written since: the queue is not empty, so take clears this
		w.lagging.Store(true)
		w.late.Add(1)
	}
}

// drain writes the queued changes until none is left.
func (r *Redis) drain() {
	for {
		batch := r.w.take()
		if len(batch) == 0 {
			return
		}
		for _, q := range batch {
			r.write(q)
			r.w.finished(q.seq)
		}
	}
}

// write writes one queued change, or marks its cycle stale.
func (r *Redis) write(q queued) {
	if r.out.isDown() || r.isStale(q.cycle) {
		r.w.dropped.Add(1)
		r.setStale(q.cycle)
		return
	}
	started := time.Now()
	ctx, cancel := r.opCtx(q.ctx)
	defer cancel()
	err := r.apply(ctx, r.keys(q.cycle), q.change)
	if errors.Is(err, errNotBuilt) {
		if q.cycle == r.policy.CycleOf(r.clock()).String() {
			r.notReady() // lost (a flush, a restart): rebuild it now, not at Run's next period
		}
		err = nil
	}
	if err == nil {
		r.w.written.Add(1)
		r.out.answered(started)
		return
	}
	r.w.dropped.Add(1)
	if unreachable(err) {
		r.out.failed("update", started, err)
		r.setStale(q.cycle) // Run invalidates it for every instance once Redis answers
		return
	}
	r.log.ErrorContext(q.ctx, "leaderboard: redis update failed; answering from SQL until rebuilt",
		"merchant", q.change.id, "cycle", q.cycle, "err", err)
	r.markStale(ctx, q.cycle)
}

// WriteStats counts what became of the changes heard after commits.
type WriteStats struct {
	Written  uint64 // written to Redis (a change of a cycle not built, or older than the one there, leaves it as it is)
	Dropped  uint64 // not written (Redis down or failing, or the cycle stale): its cycle is rebuilt
	Overflow uint64 // not queued, the queue being full: its cycle is rebuilt
	Late     uint64 // callers that stopped waiting for their change (Redis slow)
	Queued   int    // waiting now
	// LongestHold is the longest a caller (an inspection, after its commit)
	// spent in ScoreChanged: at most about writeWait, whatever Redis does.
	LongestHold time.Duration
}

// WriteStats returns the counts so far.
func (r *Redis) WriteStats() WriteStats {
	r.w.mu.Lock()
	queued := len(r.w.queue)
	r.w.mu.Unlock()
	return WriteStats{Written: r.w.written.Load(), Dropped: r.w.dropped.Load(), Overflow: r.w.overflow.Load(),
		Late: r.w.late.Load(), Queued: queued, LongestHold: time.Duration(r.w.longest.Load())}
}

// outage knows whether Redis answers, as the board's calls find it, and logs
// the start of an outage once (WARN) and its end once (INFO), however many
// calls fail meanwhile. While it is down, requests do not try Redis at all:
// Run tries it every retryEvery and declares it back.
type outage struct {
	log  *slog.Logger
	down atomic.Bool

	mu       sync.Mutex
	since    time.Time // when the current state (up or down) began
	failures int       // calls failed during this outage
}

func (o *outage) isDown() bool { return o.down.Load() }

// failed notes a call that began at started and failed. A call begun before
// Redis came back says nothing about it now.
func (o *outage) failed(op string, started time.Time, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down.Load() {
		o.failures++
		return
	}
	if started.Before(o.since) {
		return
	}
	o.down.Store(true)
	o.since, o.failures = time.Now(), 1
	o.log.Warn("leaderboard: redis unreachable; answering from SQL and dropping changes until it is back",
		"op", op, "err", err)
}

// answered notes a call that began at started and succeeded. A call begun
// before the outage says nothing about its end.
func (o *outage) answered(started time.Time) {
	if !o.down.Load() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.down.Load() || started.Before(o.since) {
		return
	}
	o.down.Store(false)
	o.log.Info("leaderboard: redis is back; rebuilding what it missed",
		"down_for", time.Since(o.since).Round(time.Millisecond).String(), "failed_calls", o.failures)
	o.since = time.Now()
}

// unreachable reports whether err says Redis could not be reached or did not
// answer in time (rather than answering with an error).
func unreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout)
}

// LogRedisTo routes go-redis's own log lines (failed dials, pool trouble)
// into log, instead of its plain lines on stderr. go-redis keeps one logger
// for the whole process, so the program sets it once, where it builds its
// logger. Failed dials are logged at DEBUG: the board logs an outage itself,
// once, whereas go-redis logs every dial.
func LogRedisTo(log *slog.Logger) { redis.SetLogger(redisLog{log}) }

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	level := slog.LevelWarn
	if strings.Contains(msg, "dial") {
		level = slog.LevelDebug
	}
	l.log.Log(ctx, level, "go-redis", "detail", msg)
}

// errNotBuilt says that apply wrote nothing because the cycle's sets are
// neither ready nor being built (flushed, evicted, never built): the next
// rebuild reads the change from the database.
var errNotBuilt = errors.New("leaderboard: cycle not built")

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
	switch {
	case err != nil:
		return err
	case live == 0:
		return errNotBuilt
	case live == 2:
		return nil
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
