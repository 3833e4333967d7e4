package leaderboard

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/menqian/menqian/models"
)

// ErrRebuildBusy means another instance holds the cycle's rebuild lock.
var ErrRebuildBusy = errors.New("leaderboard: another rebuild is running")

var (
	errLockLost    = errors.New("leaderboard: rebuild lock lost")
	errInvalidated = errors.New("leaderboard: cycle invalidated while rebuilding; will rebuild again")
)

// Tuning of a rebuild.
const (
	batchMerchants = 10000            // merchants per pipeline sent to Redis
	chunkMembers   = 1000             // members per ZADD or HSET command
	tmpTTL         = 10 * time.Minute // temporary keys of a crashed rebuild expire
	writers        = 1                // pipelines in flight (more only add CPU contention with Redis)
)

// extendScript renews the lock only while it is still ours.
var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// releaseScript deletes the lock only while it is still ours.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// finishScript declares a rebuilt cycle ready, unless the lock is no longer
// ours (expired, flushed) or the cycle was invalidated since the rebuild began.
// KEYS: ready, lock, epoch, dirty. ARGV: token, epoch at start, generation, expire ms.
var finishScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[4])
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[2] then return -1 end
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
return 1
`)

// Rebuild reloads the cycle's sets from the database into temporary keys and
// renames them over the live ones, under a lock so that one instance rebuilds
// at a time (ErrRebuildBusy otherwise). Changes heard meanwhile are written
// again afterwards; the cycle is declared ready at the end, and reads answer
// from SQL until then if it was not ready before.
func (r *Redis) Rebuild(ctx context.Context, cycle string) error {
	exp, err := r.expireAt(cycle)
	if err != nil {
		return err
	}
	k := r.keys(cycle)
	// A cycle marked stale before this point is repaired by this rebuild,
	// which reads the database later; one marked afterwards may not be.
	marks := r.staleMarks()
	token, err := newToken()
	if err != nil {
		return err
	}
	ok, err := r.rdb.SetNX(ctx, k.lock(), token, r.lockTTL).Result()
	if err != nil {
		return fmt.Errorf("rebuild lock: %w", err)
	}
	if !ok {
		return ErrRebuildBusy
	}
	bctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.holdLock(bctx, cancel, k, token)
	}()
	err = r.rebuild(bctx, k, token, exp)
	if cause := context.Cause(bctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("%w (%v)", cause, err)
	}
	cancel(nil)
	wg.Wait()
	if err != nil {
		rctx, done := r.opCtx(context.WithoutCancel(ctx))
		releaseScript.Run(rctx, r.rdb, []string{k.lock()}, token)
		done()
		return fmt.Errorf("rebuild %s: %w", cycle, err)
	}
	r.clearStale(cycle, marks)
	return nil
}

// holdLock renews the rebuild lock until ctx ends, and cancels the rebuild
// when the lock is lost.
func (r *Redis) holdLock(ctx context.Context, cancel context.CancelCauseFunc, k keys, token string) {
	t := time.NewTicker(r.lockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := extendScript.Run(ctx, r.rdb, []string{k.lock()}, token, r.lockTTL.Milliseconds()).Int()
		if ctx.Err() != nil {
			return
		}
		if err != nil || n == 0 {
			cancel(fmt.Errorf("%w: %v", errLockLost, err))
			return
		}
	}
}

func (r *Redis) rebuild(ctx context.Context, k keys, token string, exp time.Time) error {
	started := time.Now()
	epoch, err := r.rdb.Get(ctx, k.epoch()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	if err := r.rdb.Del(ctx, k.dirty()).Err(); err != nil {
		return err
	}
	b := newBuilder(ctx, r.rdb, k, token)
	err = r.db.EachBoardMerchant(ctx, k.cycle, r.policy.BaseScore, b.add)
	if err = b.finish(err); err != nil {
		return err
	}
	if err := r.swap(ctx, k, b, token, exp); err != nil {
		return err
	}
	if err := r.rewriteDirty(ctx, k); err != nil {
		return err
	}
	res, err := finishScript.Run(ctx, r.rdb, []string{k.ready(), k.lock(), k.epoch(), k.dirty()},
		token, epoch, strconv.FormatInt(started.UnixMilli(), 10), exp.UnixMilli()).Int()
	switch {
	case err != nil:
		return err
	case res == 0:
		return errLockLost
	case res < 0:
		return errInvalidated
	}
	r.log.Info("leaderboard: rebuilt", "cycle", k.cycle, "merchants", b.merchants, "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// swap renames the built keys over the live ones and deletes the live keys the
// build left empty (a road whose merchants all left). Then, and only then, it
// sets the rebuild's token as every hash tag's version, so that no page read
// before the swap is taken for a page of the new sets.
func (r *Redis) swap(ctx context.Context, k keys, b *builder, token string, exp time.Time) error {
	counties, err := r.db.ListCounties(ctx, nil)
	if err != nil {
		return err
	}
	roads, err := r.db.BoardRoads(ctx, 0)
	if err != nil {
		return err
	}
	live := []string{k.city(), k.meta()}
	versions := []string{k.ver()}
	for _, c := range counties {
		live = append(live, k.county(c.ID), k.roads(c.ID), k.roadOf(c.ID), k.countyMeta(c.ID))
		versions = append(versions, k.countyVer(c.ID))
	}
	for _, rd := range roads {
		live = append(live, k.road(rd.CountyID, rd.ID))
		r.roadCounty.Store(rd.ID, rd.CountyID)
	}
	pipe := r.rdb.Pipeline()
	for _, key := range live {
		if b.built[key] {
			pipe.Rename(ctx, b.tmp(key), key)
			pipe.PExpireAt(ctx, key, exp)
		} else {
			pipe.Del(ctx, key)
		}
	}
	for _, key := range versions {
		pipe.HSet(ctx, key, "g", token)
		pipe.PExpireAt(ctx, key, exp)
	}
	_, err = pipe.Exec(ctx)
	return err
}

// rewriteDirty writes again, from the database, the merchants changed while
// the rebuild ran: their updates may have gone to the keys just replaced.
func (r *Redis) rewriteDirty(ctx context.Context, k keys) error {
	codes, err := r.rdb.SMembers(ctx, k.dirty()).Result()
	if err != nil || len(codes) == 0 {
		return err
	}
	ms, err := r.db.BoardMerchantsByCodes(ctx, k.cycle, r.policy.BaseScore, codes)
	if err != nil {
		return err
	}
	for _, m := range ms {
		c := change{id: m.ID, code: m.Code, name: m.Name, countyID: m.CountyID, roadID: m.RoadID, active: m.Status == "active", score: m.Score, version: -1}
		if err := r.apply(ctx, k, c); err != nil && !errors.Is(err, errNotBuilt) {
			return err
		}
	}
	return nil
}

// builder fills the temporary keys of a rebuild; goroutines write the
// batches to Redis while the database rows stream in.
type builder struct {
	ctx    context.Context
	k      keys
	suffix string

	cur       *batch
	out       chan *batch
	done      chan error
	built     map[string]bool // live keys that have a temporary copy
	tallies   map[int64]map[int64]*models.RoadTally
	merchants int
}

type batch struct {
	zsets  map[string][]redis.Z
	hashes map[string][]any
	n      int
}

func newBatch() *batch { return &batch{zsets: map[string][]redis.Z{}, hashes: map[string][]any{}} }

func newBuilder(ctx context.Context, rdb redis.UniversalClient, k keys, token string) *builder {
	b := &builder{ctx: ctx, k: k, suffix: "~" + token, cur: newBatch(), out: make(chan *batch, 2), done: make(chan error, 1),
		built: map[string]bool{}, tallies: map[int64]map[int64]*models.RoadTally{}}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- write(ctx, rdb, b.out)
		}()
	}
	go func() {
		wg.Wait()
		close(errs)
		var first error
		for err := range errs {
			first = cmp.Or(first, err)
		}
		b.done <- first
	}()
	return b
}

// tmp names the temporary copy of a live key; it keeps the key's hash tag.
func (b *builder) tmp(key string) string { return key + b.suffix }

func (b *builder) zadd(key string, score int, member string) {
	b.built[key] = true
	t := b.tmp(key)
	b.cur.zsets[t] = append(b.cur.zsets[t], redis.Z{Score: float64(-score), Member: member})
}

func (b *builder) hset(key string, field, value string) {
	b.built[key] = true
	t := b.tmp(key)
	b.cur.hashes[t] = append(b.cur.hashes[t], field, value)
}

func (b *builder) add(m models.BoardMerchant) error {
	k := b.k
	b.zadd(k.city(), m.Score, m.Code)
	b.zadd(k.county(m.CountyID), m.Score, m.Code)
	b.zadd(k.road(m.CountyID, m.RoadID), m.Score, m.Code)
	meta := strconv.FormatInt(m.ID, 10) + ":" + m.Name
	b.hset(k.meta(), m.Code, meta)
	b.hset(k.countyMeta(m.CountyID), m.Code, meta)
	b.hset(k.roadOf(m.CountyID), m.Code, strconv.FormatInt(m.RoadID, 10))
	roads := b.tallies[m.CountyID]
	if roads == nil {
		roads = map[int64]*models.RoadTally{}
		b.tallies[m.CountyID] = roads
	}
	t := roads[m.RoadID]
	if t == nil {
		t = &models.RoadTally{RoadID: m.RoadID}
		roads[m.RoadID] = t
	}
	t.Total += int64(m.Score)
	t.Merchants++
	b.merchants++
	if b.cur.n++; b.cur.n >= batchMerchants {
		return b.send()
	}
	return nil
}

func (b *builder) send() error {
	select {
	case b.out <- b.cur:
		b.cur = newBatch()
		return nil
	case err := <-b.done:
		b.done <- err // keep it for finish
		if err == nil {
			err = errors.New("leaderboard: writer stopped")
		}
		return err
	case <-b.ctx.Done():
		return context.Cause(b.ctx)
	}
}

// finish writes the road sums and the last batch and waits for the writer;
// err is the streaming error, which wins.
func (b *builder) finish(err error) error {
	if err == nil {
		for county, roads := range b.tallies {
			for id, t := range roads {
				f := strconv.FormatInt(id, 10)
				b.hset(b.k.roads(county), "s:"+f, strconv.FormatInt(t.Total, 10))
				b.hset(b.k.roads(county), "n:"+f, strconv.Itoa(t.Merchants))
			}
		}
		err = b.send()
	}
	close(b.out)
	werr := <-b.done
	if err != nil {
		return err
	}
	return werr
}

// write sends batches to Redis, one pipeline each, until out closes. After an
// error it drains out so that the builder never blocks.
func write(ctx context.Context, rdb redis.UniversalClient, out <-chan *batch) error {
	var failed error
	for bt := range out {
		if failed != nil {
			continue
		}
		pipe := rdb.Pipeline()
		for key, zs := range bt.zsets {
			for len(zs) > 0 {
				n := min(len(zs), chunkMembers)
				pipe.ZAdd(ctx, key, zs[:n]...)
				zs = zs[n:]
			}
			pipe.PExpire(ctx, key, tmpTTL)
		}
		for key, kv := range bt.hashes {
			for len(kv) > 0 {
				n := min(len(kv), 2*chunkMembers)
				pipe.HSet(ctx, key, kv[:n]...)
				kv = kv[n:]
			}
			pipe.PExpire(ctx, key, tmpTTL)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			failed = err
		}
	}
	return failed
}

func newToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Run keeps the current cycle's sets complete until ctx ends: every period,
// and soon after a read or write found them missing or stale, it rebuilds
// them when they are not ready or their sizes disagree with the database.
// While Redis is down it tries it every retryEvery, and declares it back.
func (r *Redis) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.reconcile(ctx)
		var retry <-chan time.Time
		if r.out.isDown() {
			retry = time.After(retryEvery)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-retry:
		case <-r.kick:
			if r.out.isDown() { // kicked by a change dropped meanwhile: wait for the retry
				if retry == nil {
					retry = time.After(retryEvery)
				}
				select {
				case <-ctx.Done():
					return
				case <-retry:
				}
			}
		}
	}
}

// reconcile makes one repair pass.
func (r *Redis) reconcile(ctx context.Context) {
	started := time.Now()
	r.mu.Lock()
	stale := maps.Clone(r.stale)
	r.mu.Unlock()
	for c, mark := range stale {
		// Redis answers again: make every instance stop trusting the cycle,
		// then this one may read it again once it is rebuilt.
		if err := r.invalidate(ctx, c); err != nil {
			r.repairFailed(ctx, "invalidate", started, err)
			return
		}
		r.clearStale(c, mark)
	}
	cycle := r.policy.CycleOf(r.clock()).String()
	k := r.keys(cycle)
	n, err := r.rdb.Exists(ctx, k.ready()).Result()
	if err != nil {
		r.repairFailed(ctx, "ready", started, err)
		return
	}
	r.out.answered(started)
	if n == 1 {
		ok, err := r.complete(ctx, k)
		if err != nil || ok {
			if err != nil && ctx.Err() == nil {
				r.repairFailed(ctx, "consistency check", started, err)
			}
			return
		}
	}
	switch err := r.Rebuild(ctx, cycle); {
	case errors.Is(err, ErrRebuildBusy):
	case err != nil && ctx.Err() == nil:
		r.repairFailed(ctx, "rebuild "+cycle, started, err)
	}
}

// repairFailed logs a failure of Run's repairs, unless Redis is down, which
// the outage logs once.
func (r *Redis) repairFailed(ctx context.Context, op string, started time.Time, err error) {
	if ctx.Err() != nil {
		return
	}
	pctx, cancel := r.opCtx(ctx)
	perr := r.ping(pctx)
	cancel()
	if perr != nil {
		r.out.failed(op, started, perr)
		return
	}
	r.log.Error("leaderboard: repair failed; answering from SQL", "op", op, "err", err)
}

// ping checks that Redis answers. On a cluster it asks for the slots again
// (so that a replica promoted in place of a dead master takes its slots in
// the client too) and pings every master: one dead master fails the board's
// calls for its slots while the others answer.
func (r *Redis) ping(ctx context.Context) error {
	cc, ok := r.rdb.(*redis.ClusterClient)
	if !ok {
		return r.rdb.Ping(ctx).Err()
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() })
}

// complete checks that every county set and the city set hold as many
// merchants as the database has active ones (evicted or lost keys, a merchant
// created without a notification). A difference seen twice, a moment apart so
// that changes in flight land, invalidates the cycle.
func (r *Redis) complete(ctx context.Context, k keys) (bool, error) {
	for attempt := 0; ; attempt++ {
		ok, err := r.sizesAgree(ctx, k)
		if err != nil || ok {
			return ok, err
		}
		if attempt == 1 {
			r.log.Warn("leaderboard: redis sets disagree with the database; rebuilding", "cycle", k.cycle)
			return false, r.invalidate(ctx, k.cycle)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func (r *Redis) sizesAgree(ctx context.Context, k keys) (bool, error) {
	counties, err := r.db.ListCounties(ctx, nil)
	if err != nil {
		return false, err
	}
	want, err := r.db.ActiveMerchantCounts(ctx)
	if err != nil {
		return false, err
	}
	pipe := r.rdb.Pipeline()
	city := pipe.ZCard(ctx, k.city())
	meta := pipe.HLen(ctx, k.meta())
	cards := make([]*redis.IntCmd, len(counties))
	metas := make([]*redis.IntCmd, len(counties))
	for i, c := range counties {
		cards[i] = pipe.ZCard(ctx, k.county(c.ID))
		metas[i] = pipe.HLen(ctx, k.countyMeta(c.ID))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return false, err
	}
	total := 0
	for i, c := range counties {
		total += want[c.ID]
		if int(cards[i].Val()) != want[c.ID] || int(metas[i].Val()) != want[c.ID] {
			return false, nil
		}
	}
	return int(city.Val()) == total && int(meta.Val()) == total, nil
}
