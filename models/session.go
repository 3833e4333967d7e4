package models

import (
	"context"
	"time"
)

// WebSession is a signed-in browser. The cookie holds a random id; IDHash is
// its SHA-256 in hex, so the table alone opens no session.
type WebSession struct {
	IDHash          string `gorm:"primaryKey;column:id_hash"`
	UserID          int64
	TokenGeneration int
	CreatedAt       time.Time
	ExpiresAt       time.Time
	EndedAt         *time.Time
}

// CreateWebSession stores s, and deletes the sessions that expired before
// s.CreatedAt, so the table holds only sessions that could still be used.
func (db *DB) CreateWebSession(ctx context.Context, s *WebSession) error {
	if err := db.conn(ctx).Exec(`DELETE FROM web_sessions WHERE expires_at < ?`, s.CreatedAt.UTC()).Error; err != nil {
		return translate(err)
	}
	return translate(db.conn(ctx).Create(s).Error)
}

// WebSessionWithUser returns the session with that id hash and its account,
// in one query, or ErrNotFound (no such session, or no such account).
func (db *DB) WebSessionWithUser(ctx context.Context, idHash string) (WebSession, User, error) {
	var rows []struct {
		User             `gorm:"embedded"`
		SUserID          int64
		STokenGeneration int
		SCreatedAt       time.Time
		SExpiresAt       time.Time
		SEndedAt         *time.Time
	}
	err := db.conn(ctx).Raw(`SELECT u.*, s.user_id AS s_user_id, s.token_generation AS s_token_generation,
		s.created_at AS s_created_at, s.expires_at AS s_expires_at, s.ended_at AS s_ended_at
		FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, idHash).Scan(&rows).Error
	if err != nil {
		return WebSession{}, User{}, translate(err)
	}
	if len(rows) == 0 {
		return WebSession{}, User{}, ErrNotFound
	}
	r := rows[0]
	return WebSession{IDHash: idHash, UserID: r.SUserID, TokenGeneration: r.STokenGeneration, CreatedAt: r.SCreatedAt,
		ExpiresAt: r.SExpiresAt, EndedAt: r.SEndedAt}, r.User, nil
}

// EndWebSession marks the session ended at at (logout); ending it twice keeps the first time.
func (db *DB) EndWebSession(ctx context.Context, idHash string, at time.Time) error {
	return translate(db.conn(ctx).Model(&WebSession{}).Where("id_hash = ? AND ended_at IS NULL", idHash).
		Update("ended_at", at.UTC()).Error)
}
