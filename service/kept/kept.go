// Package kept keeps rendered responses for reuse while the stamp they were
// rendered under stands (see service/web/pagecache.go and
// service/httpapi/kept.go for what the stamps hold). It bounds memory by
// bytes, drops the least recently used first, and lets concurrent readers of
// one key and stamp share a single render.
package kept

import (
	"container/list"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Entry is a kept response: its parts (written in order with a
// per-response piece between them, such as a CSP nonce) and headers.
type Entry[S comparable] struct {
	Stamp  S
	Parts  [][]byte
	Header map[string]string // set on every reuse
	size   int
}

// Flight is a response being rendered for one key and stamp: the readers
// that find the same key and stamp wait for it instead of rendering it too
// (when writes change the stamp ten times a second, 64 concurrent readers
// would otherwise all render each new version). Its entry is as fresh as any
// of them needs: it was read after a stamp equal to theirs.
type Flight[S comparable] struct {
	done  chan struct{}
	entry *Entry[S] // nil: not keepable; each waiter renders its own
}

// Wait returns the flight's entry once it landed (nil: render your own), or
// false when done closed first.
func (f *Flight[S]) Wait(done <-chan struct{}) (*Entry[S], bool) {
	select {
	case <-f.done:
		return f.entry, true
	case <-done:
		return nil, false
	}
}

type flightKey[K, S comparable] struct {
	key   K
	stamp S
}

type item[K, S comparable] struct {
	key   K
	entry *Entry[S]
}

// Cache keeps entries by key, at most maxBytes of them.
type Cache[K, S comparable] struct {
	maxBytes int

	mu      sync.Mutex
	items   map[K]*list.Element // of item, most recently used first
	lru     list.List
	bytes   int
	flights map[flightKey[K, S]]*Flight[S]

	counts *prometheus.CounterVec // by result: hit, shared, miss
}

// New returns a cache of at most maxBytes, counting its reads in counts (by
// a "result" label: hit, shared or miss).
func New[K, S comparable](maxBytes int, counts *prometheus.CounterVec) *Cache[K, S] {
	return &Cache[K, S]{maxBytes: maxBytes, items: map[K]*list.Element{}, flights: map[flightKey[K, S]]*Flight[S]{}, counts: counts}
}

// Get returns the entry of key under st; else the flight rendering it, which
// the caller leads (and must Land) when lead is true.
func (c *Cache[K, S]) Get(key K, st S) (e *Entry[S], f *Flight[S], lead bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok && el.Value.(item[K, S]).entry.Stamp == st {
		c.lru.MoveToFront(el)
		c.counts.WithLabelValues("hit").Inc()
		return el.Value.(item[K, S]).entry, nil, false
	}
	fk := flightKey[K, S]{key, st}
	if f := c.flights[fk]; f != nil {
		c.counts.WithLabelValues("shared").Inc()
		return nil, f, false
	}
	c.counts.WithLabelValues("miss").Inc()
	f = &Flight[S]{done: make(chan struct{})}
	c.flights[fk] = f
	return nil, f, true
}

// Lookup is Get, then for a flight another reader leads its Wait: the entry
// to write (nil: render it, and Land f when lead), or ok false when done
// closed while waiting (the caller is gone, or its deadline passed).
func (c *Cache[K, S]) Lookup(key K, st S, done <-chan struct{}) (e *Entry[S], f *Flight[S], lead, ok bool) {
	e, f, lead = c.Get(key, st)
	if f == nil || lead {
		return e, f, lead, true
	}
	e, ok = f.Wait(done)
	return e, nil, false, ok
}

// Land ends the flight of key under st with its entry (nil: none to keep),
// which is kept unless larger than maxPart of the cache.
func (c *Cache[K, S]) Land(key K, st S, f *Flight[S], e *Entry[S]) {
	if e != nil {
		e.Stamp = st
		for _, p := range e.Parts {
			e.size += len(p)
		}
		for k, v := range e.Header {
			e.size += len(k) + len(v)
		}
		if e.size > c.maxBytes/maxPart {
			e = nil
		}
	}
	f.entry = e
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, flightKey[K, S]{key, st})
	close(f.done)
	if e == nil {
		return
	}
	if el, ok := c.items[key]; ok {
		c.bytes -= el.Value.(item[K, S]).entry.size
		c.lru.Remove(el)
	}
	c.items[key] = c.lru.PushFront(item[K, S]{key, e})
	c.bytes += e.size
	for c.bytes > c.maxBytes {
		el := c.lru.Back()
		old := el.Value.(item[K, S])
		c.lru.Remove(el)
		delete(c.items, old.key)
		c.bytes -= old.entry.size
	}
}

// maxPart: no entry takes more than 1/maxPart of the cache.
const maxPart = 64

// Collector is the cache's read counter, for a registry.
func (c *Cache[K, S]) Collector() prometheus.Collector { return c.counts }
