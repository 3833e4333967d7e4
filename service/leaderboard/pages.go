package leaderboard

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// pageScript reads one page of the sorted set KEYS[1] with the meta of its
// members from the hash KEYS[2], ranks ARGV[1]..ARGV[2], unless the version
// of their hash tag (the hash KEYS[3]) is still ARGV[3], the version of the
// copy of the page the caller holds. It answers {version} when unchanged, else
// {version, size of the set, how many score strictly better than the page's
// first (only when ARGV[1] > 0), then code, score, meta ("" when missing) per
// member}. A version is "g:n", never "".
var pageScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[3], 'g', 'n')
local version = (v[1] or '') .. ':' .. (v[2] or '0')
if version == ARGV[3] then return {version} end
local page = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local out = {version, redis.call('ZCARD', KEYS[1]), 0}
if #page == 0 then return out end
local codes = {}
for i = 1, #page, 2 do codes[#codes + 1] = page[i] end
local meta = redis.call('HMGET', KEYS[2], unpack(codes))
if tonumber(ARGV[1]) > 0 then out[3] = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. page[2]) end
for i = 1, #codes do
  out[#out + 1] = codes[i]
  out[#out + 1] = page[2 * i]
  out[#out + 1] = meta[i] or ''
end
return out
`)

// pageKey names one page read: the ready marker that must exist, the set,
// the meta hash and the version hash of its hash tag, and the ranks.
type pageKey struct {
	ready, set, meta, ver string
	limit, offset         int
}

// heldPage is the last answer read for a page, and the version it was read at.
type heldPage struct {
	version string
	items   []Entry // read only
	total   int
	read    time.Time // when the page itself was last read
}

// maxHeld bounds the pages remembered; past it they are forgotten at once.
const maxHeld = 4096

// maxHeldAge is how long a held page may stand for the sets: a page is read
// again at least this often even when its version says it is unchanged. The
// versions are exact; this only bounds what a writer that does not bump them
// (an instance of an older menqian during a rolling upgrade, a hand edit) can
// leave stale.
const maxHeldAge = time.Second

// pageRead is one page read waiting for, or answered by, a round trip.
type pageRead struct {
	done  chan struct{}
	items []Entry // shared by every caller and later reads: read only
	total int
	ok    bool
}

// pageReads sends page reads to Redis one round trip at a time: the reads
// asked for while a round trip is out wait and go together in the next one,
// and equal reads among them are sent once. A read is only ever joined before
// it is sent, so every caller's answer was read from Redis after the caller
// asked: a rank read right after a change, on any instance, sees the change.
//
// The last answer of each page is kept with the version of its hash tag, and a
// read sends that version: when nothing was written since, Redis answers the
// version alone instead of the page. So the answer is still as of the round
// trip, but an unchanged page costs Redis a hash read instead of a range.
type pageReads struct {
	mu      sync.Mutex
	pending map[pageKey]*pageRead
	sending bool

	held map[pageKey]heldPage // used only by the one sender at a time
}

// top reads one page from Redis; ok is false when SQL must answer instead.
func (r *Redis) top(ctx context.Context, k keys, set, meta, ver string, limit, offset int) ([]Entry, int, bool) {
	key := pageKey{ready: k.ready(), set: set, meta: meta, ver: ver, limit: limit, offset: offset}
	p := &r.pages
	p.mu.Lock()
	read := p.pending[key]
	if read == nil {
		read = &pageRead{done: make(chan struct{})}
		if p.pending == nil {
			p.pending = map[pageKey]*pageRead{}
		}
		p.pending[key] = read
	}
	lead := !p.sending
	var batch map[pageKey]*pageRead
	if lead {
		p.sending = true
		batch, p.pending = p.pending, nil
	}
	p.mu.Unlock()
	if lead {
		r.sendPages(batch)
	}
	select {
	case <-read.done:
	case <-ctx.Done():
		return nil, 0, false
	}
	if !read.ok {
		return nil, 0, false
	}
	return read.items, read.total, true
}

// sendPages answers a batch of page reads with one round trip, then hands the
// reads that queued up meanwhile to a new goroutine, so that this caller
// returns at once.
func (r *Redis) sendPages(batch map[pageKey]*pageRead) {
	defer func() {
		p := &r.pages
		p.mu.Lock()
		next := p.pending
		p.pending = nil
		p.sending = next != nil
		p.mu.Unlock()
		if next != nil {
			go r.sendPages(next)
		}
	}()
	r.readPages(batch)
}

// readPages runs one pipeline for the batch: each ready marker once, then the
// page script of each read.
func (r *Redis) readPages(batch map[pageKey]*pageRead) {
	defer func() {
		for _, read := range batch {
			close(read.done)
		}
	}()
	ctx, cancel := r.opCtx(context.Background())
	defer cancel()
	held := r.pages.held
	if held == nil || len(held) >= maxHeld {
		held = make(map[pageKey]heldPage, len(batch))
		r.pages.held = held
	}
	now := time.Now()
	for key := range batch {
		if h, ok := held[key]; ok && now.Sub(h.read) >= r.heldAge {
			delete(held, key)
		}
	}
	ready := map[string]*redis.IntCmd{}
	pages := make(map[pageKey]*redis.Cmd, len(batch))
	send := func(p redis.Pipeliner, eval func(context.Context, redis.Scripter, []string, ...any) *redis.Cmd) error {
		for key := range batch {
			if ready[key.ready] == nil {
				ready[key.ready] = p.Exists(ctx, key.ready)
			}
			pages[key] = eval(ctx, p, []string{key.set, key.meta, key.ver}, key.offset, key.offset+key.limit-1, held[key].version)
		}
		return nil
	}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { return send(p, pageScript.EvalSha) })
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// The server lost its script cache (restart, flush): send the body once.
		clear(ready)
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { return send(p, pageScript.Eval) })
	}
	if err != nil {
		r.readFailed("top", now, err)
		return
	}
	r.out.answered(now)
	for key, read := range batch {
		if ready[key.ready].Val() == 0 {
			r.notReady()
			continue
		}
		page, err := parsePage(pages[key].Val(), key.offset, held[key])
		if err != nil {
			delete(held, key)
			r.log.Warn("leaderboard: incomplete page in redis, answering from SQL", "set", key.set, "err", err)
			continue
		}
		if page.read.IsZero() { // read now, not answered unchanged
			page.read = now
		}
		held[key] = page
		read.items, read.total, read.ok = page.items, page.total, true
	}
}

// parsePage turns the reply of pageScript into ranked entries, or into the
// page held when the reply says it is unchanged.
func parsePage(v any, offset int, held heldPage) (heldPage, error) {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return heldPage{}, fmt.Errorf("page script answered %T %v", v, v)
	}
	version, _ := a[0].(string)
	if len(a) == 1 {
		if version == "" || version != held.version {
			return heldPage{}, fmt.Errorf("page script answered version %q alone, held %q", version, held.version)
		}
		return held, nil
	}
	if version == "" || len(a) < 3 || (len(a)-3)%3 != 0 {
		return heldPage{}, fmt.Errorf("page script answered %d values", len(a))
	}
	total, ok1 := a[1].(int64)
	above, ok2 := a[2].(int64)
	if !ok1 || !ok2 {
		return heldPage{}, fmt.Errorf("page script answered counts %v, %v", a[1], a[2])
	}
	items := make([]Entry, (len(a)-3)/3)
	for i := range items {
		code, _ := a[3+3*i].(string)
		score, _ := a[4+3*i].(string)
		meta, _ := a[5+3*i].(string)
		neg, err := strconv.ParseFloat(score, 64)
		if err != nil {
			return heldPage{}, fmt.Errorf("score of %s: %w", code, err)
		}
		id, name, found := strings.Cut(meta, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !found || err != nil {
			return heldPage{}, fmt.Errorf("merchant %s missing from meta", code)
		}
		items[i] = Entry{MerchantID: n, Code: code, Name: name, Score: -int(neg)}
	}
	competitionRanks(items, offset, int(above)+1)
	return heldPage{version: version, items: items, total: int(total)}, nil
}
