package models_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// addCounties inserts n counties (each gets a version row from its trigger).
func addCounties(t testing.TB, db *models.DB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := db.SQL().Exec(`INSERT INTO counties (code, name, demo_road_target, created_at, updated_at)
			VALUES (?, ?, 10, '2026-01-01', '2026-01-01')`, fmt.Sprintf("3703%02d", i+1), fmt.Sprintf("county %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
}

// watchedSQLite opens a migrated SQLite file with two counties and returns it
// with its path, so that a test can open a second instance on it.
func watchedSQLite(t *testing.T) (*models.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "menqian.db")
	db := openSQLiteFile(t, path)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	addCounties(t, db, 2)
	var mode string
	if err := db.SQL().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q (%v), want wal: the watcher is meant for WAL", mode, err)
	}
	return db, path
}

func openSQLiteFile(t *testing.T, path string) *models.DB {
	t.Helper()
	db, err := models.Open(models.Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addRoad commits a road in the county through db: its trigger bumps the
// county's version by one.
func addRoad(t *testing.T, db *models.DB, county int64, name string) {
	t.Helper()
	if _, err := db.SQL().Exec(`INSERT INTO roads (county_id, name, created_at, updated_at)
		VALUES (?, ?, '2026-01-01', '2026-01-01')`, county, name); err != nil {
		t.Fatal(err)
	}
}

func versions(t *testing.T, db *models.DB) map[int64]int64 {
	t.Helper()
	vs, err := db.CountyVersions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// same reports whether two maps are one map (no re-read in between).
func same(a, b map[int64]int64) bool {
	return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
}

// TestCountyVersionsWatch: on SQLite the versions are read again only after
// a commit, and every commit, from this instance or another, is seen by the
// next read (which checks that PRAGMA data_version moves in WAL mode).
func TestCountyVersionsWatch(t *testing.T) {
	t.Run("unchanged", func(t *testing.T) {
		db, _ := watchedSQLite(t)
		first := versions(t, db)
		if first[1] != 0 || first[2] != 0 {
			t.Fatalf("versions %v, want counties 1 and 2 at 0", first)
		}
		for i := 0; i < 3; i++ {
			// A read that does not change the versions is no commit either.
			if _, err := db.CountyVersion(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			if again := versions(t, db); !same(first, again) {
				t.Fatalf("read %d: a new map with nothing committed: the table was read again", i)
			}
		}
	})

	t.Run("commit from the pool", func(t *testing.T) {
		db, _ := watchedSQLite(t)
		before := versions(t, db)
		for i := 1; i <= 3; i++ {
			addRoad(t, db, 1, fmt.Sprintf("road %d", i))
			after := versions(t, db)
			if after[1] != int64(i) || after[2] != 0 {
				t.Fatalf("after commit %d: versions %v, want county 1 at %d", i, after, i)
			}
			if same(before, after) {
				t.Fatal("the answer before the commit was returned again")
			}
			before = after
		}
		if before[1] != 3 {
			t.Errorf("the earlier answer changed: %v (maps handed out must stay as they were)", before)
		}
	})

	t.Run("commit from another instance", func(t *testing.T) {
		db, path := watchedSQLite(t)
		other := openSQLiteFile(t, path)
		before := versions(t, db)
		addRoad(t, other, 2, "elsewhere")
		if after := versions(t, db); after[2] != 1 || same(before, after) {
			t.Fatalf("after a commit on another instance: versions %v, want county 2 at 1", after)
		}
		// And the other way round: each instance's watcher sees the other's commits.
		versions(t, other)
		addRoad(t, db, 1, "here")
		if got := versions(t, other); got[1] != 1 || got[2] != 1 {
			t.Fatalf("the other instance reads %v, want both counties at 1", got)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		db, _ := watchedSQLite(t)
		before := versions(t, db)
		errUndo := errors.New("undo")
		err := db.InTx(context.Background(), func(ctx context.Context) error {
			if err := db.CreateRoad(ctx, &models.Road{CountyID: 1, Name: "never", DemoStatus: "none"}); err != nil {
				return err
			}
			// Written but not committed: the watcher, on its own
			// connection, still reads the versions before the write.
			if got := versions(t, db); got[1] != 0 {
				t.Errorf("an uncommitted write is seen: versions %v", got)
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			t.Fatalf("InTx: %v", err)
		}
		after := versions(t, db)
		if after[1] != 0 || !same(before, after) {
			t.Fatalf("after a rollback: versions %v (re-read: %v), want the same map with county 1 at 0", after, !same(before, after))
		}
		addRoad(t, db, 1, "kept")
		if got := versions(t, db); got[1] != 1 {
			t.Fatalf("after the commit that followed the rollback: versions %v, want county 1 at 1", got)
		}
	})

	t.Run("after an error", func(t *testing.T) {
		db, _ := watchedSQLite(t)
		versions(t, db)
		// The table's disappearance is a commit: the watcher reads again and fails.
		exec := func(q string) {
			t.Helper()
			if _, err := db.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		exec(`ALTER TABLE county_versions RENAME TO county_versions_away`)
		if _, err := db.CountyVersions(context.Background()); err == nil {
			t.Fatal("the versions were read from a table that is gone")
		}
		exec(`ALTER TABLE county_versions_away RENAME TO county_versions`)
		addRoad(t, db, 2, "after the error")
		if got := versions(t, db); got[2] != 1 {
			t.Fatalf("after an error and a commit: versions %v, want county 2 at 1", got)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		db, _ := watchedSQLite(t)
		const writes, readers = 20, 4
		var wg sync.WaitGroup
		done := make(chan struct{})
		errs := make(chan error, readers)
		for r := 0; r < readers; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var last int64
				for {
					select {
					case <-done:
						errs <- nil
						return
					default:
					}
					vs, err := db.CountyVersions(context.Background())
					if err != nil {
						errs <- err
						return
					}
					if vs[1] < last {
						errs <- fmt.Errorf("county 1 went back from %d to %d", last, vs[1])
						return
					}
					last = vs[1]
				}
			}()
		}
		for i := 0; i < writes; i++ {
			addRoad(t, db, 1, fmt.Sprintf("road %d", i))
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := versions(t, db); got[1] != writes {
			t.Fatalf("versions %v, want county 1 at %d", got, writes)
		}
	})
}

// TestCountyVersionsEveryDialect: a commit is seen on every dialect (MySQL
// reads the table on every call, as before).
func TestCountyVersionsEveryDialect(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			addCounties(t, db, 2)
			versions(t, db)
			addRoad(t, db, 2, "r")
			if got := versions(t, db); got[1] != 0 || got[2] != 1 {
				t.Fatalf("versions %v, want county 1 at 0 and county 2 at 1", got)
			}
		})
	}
}

// BenchmarkCountyVersions: the versions read that every cached read makes
// first, on SQLite with four counties and no writes in between.
func BenchmarkCountyVersions(b *testing.B) {
	db := dbtest.Open(b, models.SQLite)
	addCounties(b, db, 4)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		vs, err := db.CountyVersions(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(vs) != 4 {
			b.Fatalf("%d versions, want 4", len(vs))
		}
	}
}
