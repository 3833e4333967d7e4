package models

import (
	"context"
	"database/sql"
	"sync"

	"github.com/glebarez/sqlite"
)

// versionWatch answers CountyVersions on SQLite without reading the versions
// table when nothing was committed since its last read. Every cached read
// asks for the versions first, so under load the table read ran back to back
// and cost about a quarter of the CPU (the driver prepares each statement
// anew on every call).
//
// It holds one connection of its own, through which nothing is ever written.
// SQLite's PRAGMA data_version on a connection changes whenever another
// connection, of this process or another, committed since that connection's
// previous call; as every write goes through other connections, an unchanged
// value means that nothing queryVersions reads has changed either
// (TestCountyVersionsWatch checks it in WAL mode). The pragma is read before
// the table: a commit that lands between the two is in the versions read but
// not in the stored pragma value, so the next call reads the table again, and
// the answer is never stale.
//
// What is left per call is the pragma's own read transaction, mostly the
// fcntl locks on the WAL index that any SQLite read takes.
type versionWatch struct {
	pool *sql.DB // its own, at most one connection

	mu          sync.Mutex
	conn        *sql.Conn       // pinned: data_version compares calls on one connection
	dataVersion int64           // the pragma's value read just before versions
	versions    map[int64]int64 // shared, read only; nil: read the table next time
}

// newVersionWatch opens (lazily, as sql.Open does) the watcher's own
// connection to the SQLite database named by dsn, with the same pragmas as
// the pool.
func newVersionWatch(dsn string) (*versionWatch, error) {
	pool, err := sql.Open(sqlite.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	return &versionWatch{pool: pool}, nil
}

// read returns every county's version as of a read that started after the
// call. The map is shared by every caller until the next change: read only.
func (w *versionWatch) read(ctx context.Context) (map[int64]int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		c, err := w.pool.Conn(ctx)
		if err != nil {
			return nil, translate(err)
		}
		w.conn, w.versions = c, nil
	}
	var dv int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&dv); err != nil {
		w.drop()
		return nil, translate(err)
	}
	if w.versions != nil && dv == w.dataVersion {
		return w.versions, nil
	}
	vs, err := queryVersions(ctx, w.conn)
	if err != nil {
		w.drop()
		return nil, err
	}
	w.dataVersion, w.versions = dv, vs
	return vs, nil
}

// drop gives the connection back after an error and forgets the versions:
// the next call may get another connection, whose data_version says nothing
// about this one's, so it reads the table again.
func (w *versionWatch) drop() {
	w.conn.Close()
	w.conn, w.versions = nil, nil
}

// close releases the watcher's connection.
func (w *versionWatch) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.drop()
	}
	return w.pool.Close()
}
