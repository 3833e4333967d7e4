package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/glebarez/sqlite"
	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Storage errors that callers branch on; every query translates driver errors into these.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
	// ErrReference means a foreign key points at nothing.
	ErrReference = errors.New("unknown reference")
)

// Dialect names the SQL flavour behind a DB.
type Dialect string

// The two supported dialects.
const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// DB is the database handle shared by every query. It is safe for concurrent use.
type DB struct {
	gorm    *gorm.DB
	dialect Dialect
	// versions answers CountyVersions on SQLite (see versionwatch.go); nil on MySQL.
	versions *versionWatch
}

// Config says which database to open.
type Config struct {
	MySQLDSN   string // go-sql-driver DSN; empty selects SQLite
	SQLitePath string
	// MaxOpenConns bounds the MySQL connections of this process (0: 64).
	// Every instance of a deployment holds up to this many: together they
	// must stay below the server's max_connections (MariaDB's default 151).
	MaxOpenConns int
}

// DefaultMaxOpenConns is the MySQL connections a process holds at most by default.
const DefaultMaxOpenConns = 64

// Open connects to MySQL/MariaDB when a DSN is given, else to the embedded SQLite
// file (WAL, busy timeout, foreign keys on, IMMEDIATE transactions so concurrent
// writers queue instead of failing).
func Open(cfg Config) (*DB, error) {
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
	}
	if cfg.MySQLDSN != "" {
		dsn, err := normalizeMySQLDSN(cfg.MySQLDSN)
		if err != nil {
			return nil, err
		}
		g, err := gorm.Open(mysql.Open(dsn), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open mysql: %w", err)
		}
		sqlDB, _ := g.DB()
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = DefaultMaxOpenConns
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		return &DB{gorm: g, dialect: MySQL}, nil
	}
	path := cfg.SQLitePath
	if path == "" {
		path = "menqian.db"
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	// No _time_format: glebarez/go-sqlite v1.21 stops reading parameters after
	// it, which would silently drop _txlock. IMMEDIATE makes a transaction take
	// the write lock at BEGIN (waiting up to busy_timeout), so a read followed
	// by a write never fails with SQLITE_BUSY on the upgrade.
	q.Set("_txlock", "immediate")
	// In a file: URI, "?" and "#" end the path and "%" escapes: a path
	// holding them must be escaped, or the pragmas after them are lost.
	uriPath := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + uriPath + "?" + q.Encode()
	g, err := gorm.Open(sqlite.Open(dsn), gcfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, _ := g.DB()
	sqlDB.SetMaxOpenConns(8)
	versions, err := newVersionWatch(dsn)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{gorm: g, dialect: SQLite, versions: versions}, nil
}

// normalizeMySQLDSN checks the DSN and forces the options menqian relies on:
// parseTime (DATETIME into time.Time), UTC and utf8mb4.
func normalizeMySQLDSN(dsn string) (string, error) {
	c, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("MENQIAN_MYSQL_DSN: %v", err)
	}
	if c.DBName == "" {
		return "", errors.New("MENQIAN_MYSQL_DSN: no database name (…/menqian?parseTime=true)")
	}
	c.ParseTime = true
	c.Loc = time.UTC
	// Affected rows count matched rows, so an update that changes nothing is
	// not mistaken for a missing row.
	c.ClientFoundRows = true
	// Arguments are interpolated client-side (safe with utf8mb4), so each
	// statement is one round trip instead of a prepare and an execute.
	c.InterpolateParams = true
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, ok := c.Params["charset"]; !ok {
		c.Params["charset"] = "utf8mb4"
	}
	c.MultiStatements = false
	return c.FormatDSN(), nil
}

// Dialect reports which database is behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// rowsPerInsert is how many rows one multi-row INSERT carries. The SQLite
// driver looks each bound parameter up among all the arguments, so a
// statement costs the square of its parameter count: 10,000 merchants went in
// 0.76 s in batches of 500 and 0.31 s in batches of 50 (31 s and 6 s under
// -race). A MySQL statement is a round trip, which big batches save.
func (db *DB) rowsPerInsert() int {
	if db.dialect == SQLite {
		return 50
	}
	return 500
}

// SQL returns the underlying pool, for migrations and health checks.
func (db *DB) SQL() *sql.DB {
	s, _ := db.gorm.DB()
	return s
}

// Close releases the pool (and, on SQLite, the versions watcher's connection).
func (db *DB) Close() error {
	if db.versions != nil {
		db.versions.close()
	}
	return db.SQL().Close()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.SQL().PingContext(ctx) }

type txKey struct{}

// InTx runs fn in one transaction carried by the context; queries made with
// that context join it. A nested InTx joins the outer transaction.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// conn returns the transaction in ctx, or the pool.
func (db *DB) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db.gorm.WithContext(ctx)
}

// translate maps driver and GORM errors onto the package's errors.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "Error 1062"):
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"), strings.Contains(msg, "Error 1452"):
		return fmt.Errorf("%w: %v", ErrReference, err)
	}
	return err
}

// uniqueColumns names each unique constraint the way SQLite reports it (by
// columns); MySQL and MariaDB report the constraint's own name.
var uniqueColumns = map[string]string{
	"uq_counties_code":     "counties.code",
	"uq_roads_county_name": "roads.county_id, roads.name",
	"uq_merchants_code":    "merchants.code",
	"uq_merchants_uscc":    "merchants.uscc",
	"uq_users_username":    "users.username",
	"uq_inspections_key":   "inspections.officer_id, inspections.idempotency_key",
	"uq_ledger_reverses":   "ledger_entries.reverses_id",
	"uq_appeals_entry":     "appeals.entry_id",
	"uq_cases_receipt":     "cases.receipt",
	"uq_cases_open_key":    "cases.open_key",
	"uq_open311_keys_hash": "open311_keys.key_hash",
}

// IsDuplicateOf reports whether err is a duplicate on the named unique constraint.
func IsDuplicateOf(err error, constraint string) bool {
	if !errors.Is(err, ErrDuplicate) {
		return false
	}
	msg := err.Error()
	if cols, ok := uniqueColumns[constraint]; ok && strings.Contains(msg, "UNIQUE constraint failed: "+cols) {
		return true
	}
	return strings.Contains(msg, "'"+constraint+"'") || strings.Contains(msg, "."+constraint+"'")
}

func isDuplicate(err error) bool { return errors.Is(err, ErrDuplicate) }

// IsRetryable reports whether err is a deadlock or lock timeout after which the
// whole transaction may simply run again.
func IsRetryable(err error) bool {
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// page counts the rows q matches and returns one page of them in order: the
// shape of every list in the API.
func page[T any](q *gorm.DB, order string, limit, offset int) ([]T, int64, error) {
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err)
	}
	var out []T
	err := q.Order(order).Limit(limit).Offset(offset).Find(&out).Error
	return out, total, translate(err)
}

// IsUnavailable reports whether err says the database cannot be reached or
// dropped the connection (down, restarting, refusing connections), as
// opposed to refusing the statement: the request may succeed if retried
// later. A statement cut short by its context is not an outage (see the
// callers, which tell a deadline from a client that left).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysqldrv.ErrInvalidConn), errors.Is(err, sql.ErrConnDone),
		errors.As(err, &op), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	// MariaDB going away mid-statement, or shutting down; SQLite busy past
	// its timeout.
	return strings.Contains(msg, "Error 1053") || strings.Contains(msg, "Error 2006") || strings.Contains(msg, "Error 2013") ||
		strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// LogDriverTo routes the MySQL driver's own log lines (a connection dropped
// while the database restarts, a bad idle connection closed) into log at
// DEBUG, instead of its plain lines on stderr: the service answers the outage
// itself (503, see IsUnavailable) and /readyz says it. The driver keeps one
// logger for the whole process, so the program sets it once.
func LogDriverTo(log *slog.Logger) { mysqldrv.SetLogger(driverLog{log}) }

type driverLog struct{ log *slog.Logger }

func (l driverLog) Print(v ...any) {
	l.log.Debug("mysql driver", "msg", strings.TrimSpace(fmt.Sprint(v...)))
}
