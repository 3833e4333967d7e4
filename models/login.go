package models

import (
	"context"
	"time"
)

// LoginFailure is one failed login of a username, kept while it counts
// towards the login rate limit. The rows are shared by every instance.
type LoginFailure struct {
	ID       int64
	Username string
	FailedAt time.Time
}

// RecordLoginFailure stores a failed login of username at at, and deletes the
// failures of every username at or before windowStart, which no longer count:
// the table holds one window of failures however many usernames are tried.
func (db *DB) RecordLoginFailure(ctx context.Context, username string, at, windowStart time.Time) error {
	// Two statements, no transaction: a transaction holding its new row while
	// it deletes could deadlock with another instance doing the same.
	err := db.conn(ctx).Exec(`DELETE FROM login_failures WHERE failed_at <= ?`, windowStart.UTC()).Error
	if err != nil {
		return translate(err)
	}
	f := LoginFailure{Username: username, FailedAt: at.UTC().Truncate(time.Millisecond)}
	return translate(db.conn(ctx).Create(&f).Error)
}

// LoginFailuresAfter returns the times of username's failed logins strictly
// after after, oldest first.
func (db *DB) LoginFailuresAfter(ctx context.Context, username string, after time.Time) ([]time.Time, error) {
	var out []time.Time
	err := db.conn(ctx).Model(&LoginFailure{}).Where("username = ? AND failed_at > ?", username, after.UTC()).
		Order("failed_at, id").Pluck("failed_at", &out).Error
	return out, translate(err)
}

// ClearLoginFailures forgets username's failed logins (after a successful one).
func (db *DB) ClearLoginFailures(ctx context.Context, username string) error {
	return translate(db.conn(ctx).Exec(`DELETE FROM login_failures WHERE username = ?`, username).Error)
}
