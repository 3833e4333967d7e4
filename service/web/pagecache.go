package web

import (
	"bytes"
	"container/list"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
)

// Kept pages. A console, officer or merchant page costs a few SQL reads and
// an html/template execution (half a millisecond for a table of a hundred
// rows), while a signed-in user reads the same page again and again. So the
// page a session got is kept and written again, with the response's own
// CSP nonce spliced in, while nothing it shows can have changed:
//
//   - the same session and user (its name, role, county and status as the
//     session lookup of this very request read them: a renamed or disabled
//     account is seen at once, as without the cache);
//   - the same database stamp (service.DataStamp: every write to what the
//     pages show bumps a county's change version in its transaction, on any
//     instance, and the stamp is read before the page's data, so a request
//     that starts after a commit never gets a page from before it);
//   - the same second of the service's clock, since pages also change as
//     time passes (a notice falls due, an appeal's deadline passes, a
//     cycle closes): a deadline shows as passed within the second it passes.
//
// Only 200 text/html answers to GET are kept, and only when the handler set
// no header but Content-Type (a page that sets a cookie is never reused).
// Memory: at most maxKeptBytes of pages (each at most maxKeptPage), the
// least recently used dropped first.
const (
	maxKeptBytes = 32 << 20
	maxKeptPage  = 512 << 10
)

type keptKey struct {
	session, uri string
}

// keptStamp is what a kept page was rendered under.
type keptStamp struct {
	data   service.DataStamp
	second int64
	user   keptUser
}

type keptUser struct {
	id                      int64
	username, name, role    string
	county, merchant        int64
	disabled                bool
	updated, sessionExpires time.Time
}

type keptPage struct {
	key   keptKey
	stamp keptStamp
	parts [][]byte // the page split at each occurrence of its nonce
	size  int
}

type keptPages struct {
	mu      sync.Mutex
	pages   map[keptKey]*list.Element // of *keptPage, most recently used first
	lru     list.List
	bytes   int
	flights map[keptFlightKey]*keptFlight // pages being rendered

	counts *prometheus.CounterVec // by result: hit, miss
}

func newKeptPages() *keptPages {
	return &keptPages{pages: map[keptKey]*list.Element{}, flights: map[keptFlightKey]*keptFlight{}, counts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "menqian_page_kept_total",
		Help: "Reads of the pages that may be kept (pagecache.go): hit, a kept page written again; miss, rendered.",
	}, []string{"result"})}
}

// keptFlight is a page being rendered for one key and stamp: the readers
// that find the same key and stamp wait for it instead of rendering it too
// (when writes change the stamp ten times a second, 64 concurrent readers
// would otherwise all render each new version). Its page is as fresh as any
// of them needs: it was read after a stamp equal to theirs.
type keptFlight struct {
	done chan struct{}
	page *keptPage // nil: not keepable; each waiter renders its own
}

type keptFlightKey struct {
	key   keptKey
	stamp keptStamp
}

// get returns the kept page of key under st; else the flight rendering it,
// which the caller leads (and must land) when lead is true.
func (k *keptPages) get(key keptKey, st keptStamp) (pg *keptPage, f *keptFlight, lead bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.pages[key]; ok && e.Value.(*keptPage).stamp == st {
		k.lru.MoveToFront(e)
		k.counts.WithLabelValues("hit").Inc()
		return e.Value.(*keptPage), nil, false
	}
	fk := keptFlightKey{key, st}
	if f := k.flights[fk]; f != nil {
		k.counts.WithLabelValues("shared").Inc()
		return nil, f, false
	}
	k.counts.WithLabelValues("miss").Inc()
	f = &keptFlight{done: make(chan struct{})}
	k.flights[fk] = f
	return nil, f, true
}

// land ends the flight of key under st with its page (nil: none to keep).
func (k *keptPages) land(key keptKey, st keptStamp, f *keptFlight, pg *keptPage) {
	f.page = pg
	k.mu.Lock()
	delete(k.flights, keptFlightKey{key, st})
	k.mu.Unlock()
	close(f.done)
	if pg != nil {
		k.put(pg)
	}
}

func (k *keptPages) put(pg *keptPage) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.pages[pg.key]; ok {
		k.bytes -= e.Value.(*keptPage).size
		k.lru.Remove(e)
	}
	k.pages[pg.key] = k.lru.PushFront(pg)
	k.bytes += pg.size
	for k.bytes > maxKeptBytes {
		e := k.lru.Back()
		old := e.Value.(*keptPage)
		k.lru.Remove(e)
		delete(k.pages, old.key)
		k.bytes -= old.size
	}
}

// keep serves h's GET pages from the kept pages (see above).
func (p *Pages) keep(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, nonce := sessionOf(r), nonceOf(r)
		if r.Method != http.MethodGet || s == nil || nonce == "" {
			h(w, r)
			return
		}
		data, err := p.svc.DataStamp(r.Context())
		if err != nil {
			h(w, r) // the page reports the database's trouble itself
			return
		}
		u := s.User
		st := keptStamp{data: data, second: p.svc.Now().Unix(), user: keptUser{id: u.ID, username: u.Username,
			name: u.DisplayName, role: u.Role, county: deref(u.CountyID), merchant: deref(u.MerchantID),
			disabled: u.Disabled, updated: u.UpdatedAt, sessionExpires: s.ExpiresAt}}
		key := keptKey{session: s.ID, uri: r.URL.RequestURI()}
		escaped := []byte(nonceEscaper.Replace(nonce))
		pg, f, lead := p.kept.get(key, st)
		if f != nil && !lead {
			select {
			case <-f.done:
				pg = f.page
			case <-r.Context().Done():
				return // the client is gone
			}
		}
		if pg != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			for i, part := range pg.parts {
				if i > 0 {
					w.Write(escaped)
				}
				w.Write(part)
			}
			return
		}
		if !lead {
			h(w, r)
			return
		}
		var kept *keptPage
		defer func() { p.kept.land(key, st, f, kept) }() // also when h panics
		before := len(w.Header())
		_, typed := w.Header()["Content-Type"]
		rec := &plaqueRecorder{statusWriter: statusWriter{ResponseWriter: w}}
		h(rec, r)
		hdr := w.Header()
		if _, typedNow := hdr["Content-Type"]; rec.status != http.StatusOK || typed || len(hdr) != before+1 || !typedNow ||
			hdr.Get("Content-Type") != "text/html; charset=utf-8" || rec.body.Len() > maxKeptPage {
			return
		}
		parts := bytes.Split(rec.body.Bytes(), escaped)
		if len(parts) < 2 {
			return // no nonce where the layout puts one: do not reuse it
		}
		kept = &keptPage{key: key, stamp: st, parts: parts, size: rec.body.Len() + len(key.session) + len(key.uri)}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
