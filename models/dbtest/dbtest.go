// Package dbtest gives tests a fresh, migrated database of each dialect and a
// Redis address, from the MENQIAN_TEST_* variables that .ci/run sets.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/menqian/menqian/models"
)

// Environment variables read by the helpers.
const (
	EnvMySQL   = "MENQIAN_TEST_MYSQL_DSN" // server DSN without a database, e.g. root@tcp(127.0.0.1:3306)/
	EnvRedis   = "MENQIAN_TEST_REDIS_URL" // e.g. redis://127.0.0.1:6379/0
	EnvRequire = "MENQIAN_TEST_REQUIRE"   // "1": a missing service fails the test instead of skipping it
)

// missing skips the test, or fails it when the services are required.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s is required (MENQIAN_TEST_REQUIRE=1) but not configured or not answering", what)
	}
	t.Skipf("%s not configured; set %s (see README)", what, EnvMySQL+"/"+EnvRedis)
}

// Dialects lists the dialects to run a test on: SQLite always, MariaDB when configured.
func Dialects(t testing.TB) []models.Dialect {
	out := []models.Dialect{models.SQLite}
	if os.Getenv(EnvMySQL) != "" || os.Getenv(EnvRequire) == "1" {
		out = append(out, models.MySQL)
	}
	return out
}

// Open returns a fresh migrated database of the dialect, removed after the test.
func Open(t testing.TB, d models.Dialect) *models.DB {
	t.Helper()
	ctx := context.Background()
	var db *models.DB
	var err error
	switch d {
	case models.SQLite:
		db, err = openSQLite(t)
	case models.MySQL:
		db, err = openMySQL(t)
	}
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// sqliteTemplate is a SQLite database file with every migration applied, made
// once per test binary: each test gets a copy of it (a file write) instead of
// running the migrations again, which under -race took about half a second of
// CPU per test. Open still runs Migrate on the copy, so a copy that missed a
// migration would be brought up to date (and would fail there if it could not).
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "menqian-dbtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	db, err := models.Open(models.Config{SQLitePath: path})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	// Closing the last connection checkpoints the write-ahead log into the
	// file and removes it, so the file alone is the whole database.
	if err := db.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, errors.New("the template's write-ahead log outlived its close")
	}
	return os.ReadFile(path)
})

// openSQLite opens a fresh copy of the migrated template in the test's
// temporary directory.
func openSQLite(t testing.TB) (*models.DB, error) {
	data, err := sqliteTemplate()
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	path := filepath.Join(t.TempDir(), "menqian.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, err
	}
	return models.Open(models.Config{SQLitePath: path})
}

// MySQLDSN creates a fresh empty database on the test server and returns its DSN.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvMySQL)
	if server == "" {
		missing(t, "MariaDB")
	}
	cfg, err := mysqldrv.ParseDSN(server)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		missing(t, "MariaDB at "+cfg.Addr+": "+err.Error())
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "menqian_t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("mysql", cfg.FormatDSN())
		if err == nil {
			a.Exec("DROP DATABASE IF EXISTS " + name)
			a.Close()
		}
	})
	cfg.DBName = name
	cfg.ParseTime = true
	return cfg.FormatDSN()
}

func openMySQL(t testing.TB) (*models.DB, error) {
	return models.Open(models.Config{MySQLDSN: MySQLDSN(t)})
}

// RedisURL returns the test Redis URL, skipping (or failing) when none is set.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvRedis)
	if u == "" {
		missing(t, "Redis")
	}
	return u
}
