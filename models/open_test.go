package models_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/models/dbtest"
)

// TestOpenSQLitePathWithURICharacters: a file name holding "#", "?" or "%"
// is the file's name, and the pragmas after it still apply.
func TestOpenSQLitePathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a#1.db", "b?x=1.db", "c%20.db"} {
		path := filepath.Join(dir, name)
		db, err := models.Open(models.Config{SQLitePath: path})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var fk int
		if err := db.SQL().QueryRowContext(context.Background(), "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if fk != 1 {
			t.Errorf("%s: foreign_keys = %d, want 1 (the pragmas were cut off)", name, fk)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: no file of that name: %v", name, err)
		}
	}
}

// TestOpenMySQLMaxOpenConns: the pool holds at most the connections asked
// for, and DefaultMaxOpenConns when none are.
func TestOpenMySQLMaxOpenConns(t *testing.T) {
	dsn := dbtest.MySQLDSN(t)
	for _, c := range []struct{ asked, want int }{{0, models.DefaultMaxOpenConns}, {5, 5}} {
		db, err := models.Open(models.Config{MySQLDSN: dsn, MaxOpenConns: c.asked})
		if err != nil {
			t.Fatal(err)
		}
		if got := db.SQL().Stats().MaxOpenConnections; got != c.want {
			t.Errorf("MaxOpenConns %d: the pool holds at most %d, want %d", c.asked, got, c.want)
		}
		db.Close()
	}
}
