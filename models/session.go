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

// WebSessionByHash returns the session with that id hash, or ErrNotFound.
func (db *DB) WebSessionByHash(ctx context.Context, idHash string) (WebSession, error) {
	var s WebSession
	return s, translate(db.conn(ctx).Where("id_hash = ?", idHash).Take(&s).Error)
}

// EndWebSession marks the session ended at at (logout); ending it twice keeps the first time.
func (db *DB) EndWebSession(ctx context.Context, idHash string, at time.Time) error {
	return translate(db.conn(ctx).Model(&WebSession{}).Where("id_hash = ? AND ended_at IS NULL", idHash).
		Update("ended_at", at.UTC()).Error)
}
