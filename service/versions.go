package service

import (
	"context"
	"runtime"
	"sync"

	"github.com/menqian/menqian/models"
)

// versionReader reads the counties' change versions (see countyview.go) for
// many concurrent readers with few queries, and never stale: a reader joins
// the next query that has not been sent yet, so its answer was read after
// the reader asked. While one query is out, the readers that arrive wait for
// the next, which is sent as soon as the first returns (after letting the
// goroutines that are runnable ask too) and answers them all: under load, one
// query (on SQLite mostly a PRAGMA data_version, see models/versionwatch.go)
// answers dozens of requests; alone, a reader costs one query, as before.
// Yielding before each query matters: a query on SQLite takes microseconds,
// so without it the batches were of two or three readers, and the queries
// ran back to back (a fifth of the CPU of a plaque scan under load).
type versionReader struct {
	db *models.DB

	mu      sync.Mutex
	next    *versionRead // the read that the next query answers
	sending bool         // a query is out
}

type versionRead struct {
	done     chan struct{}
	versions map[int64]int64 // shared: read only
	err      error
}

func newVersionReader(db *models.DB) *versionReader { return &versionReader{db: db} }

// read returns every county's version as of a query sent after the call.
func (r *versionReader) read(ctx context.Context) (map[int64]int64, error) {
	r.mu.Lock()
	b := r.next
	if b == nil {
		b = &versionRead{done: make(chan struct{})}
		r.next = b
	}
	if !r.sending {
		r.sending = true
		go r.send()
	}
	r.mu.Unlock()
	select {
	case <-b.done:
		return b.versions, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// send answers the waiting reads, one query at a time, until none waits.
func (r *versionReader) send() {
	for {
		runtime.Gosched() // let the readers that are about to ask join this query
		r.mu.Lock()
		b := r.next
		r.next = nil
		if b == nil {
			r.sending = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		b.versions, b.err = r.db.CountyVersions(context.Background())
		close(b.done)
	}
}

// countyVersion returns a county's change version, read after the call.
func (s *Service) countyVersion(ctx context.Context, countyID int64) (int64, error) {
	vs, err := s.versions.read(ctx)
	return vs[countyID], err
}
