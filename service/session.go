package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/menqian/menqian/models"
)

// WebSession is a signed-in browser: its secret id (the cookie's value, shown
// once), the account and when it ends.
type WebSession struct {
	ID        string
	Actor     Actor
	User      models.User
	ExpiresAt time.Time
}

// StartSession signs in a browser whose address is not known (tests); the
// pages use StartSessionFrom.
func (s *Service) StartSession(ctx context.Context, username, password string) (WebSession, error) {
	return s.StartSessionFrom(ctx, "", username, password)
}

// StartSessionFrom signs in a browser at the client address client: the
// password check, its rate limits and its messages are LoginFrom's. The
// session lasts as long as a login token.
func (s *Service) StartSessionFrom(ctx context.Context, client, username, password string) (WebSession, error) {
	res, err := s.LoginFrom(ctx, client, username, password)
	if err != nil {
		return WebSession{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return WebSession{}, fmt.Errorf("session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.now().Truncate(time.Millisecond)
	row := models.WebSession{IDHash: sessionHash(id), UserID: res.User.ID, TokenGeneration: res.User.TokenGeneration,
		CreatedAt: now, ExpiresAt: now.Add(TokenTTL)}
	if err := s.db.CreateWebSession(ctx, &row); err != nil {
		return WebSession{}, err
	}
	return WebSession{ID: id, Actor: actorOf(res.User), User: res.User, ExpiresAt: row.ExpiresAt}, nil
}

// Session returns the signed-in account of a session id. A session that was
// ended, has expired, or whose account was disabled, changed role or had its
// password reset since is CodeUnauthorized, checked on every call (the
// database answers, not a cache), so a disable ends its sessions at once.
func (s *Service) Session(ctx context.Context, id string) (WebSession, error) {
	if id == "" || len(id) > 64 {
		return WebSession{}, errNoSession
	}
	row, u, err := s.db.WebSessionWithUser(ctx, sessionHash(id))
	if errors.Is(err, models.ErrNotFound) {
		return WebSession{}, errNoSession // no such session (a session's account is never deleted)
	}
	if err != nil {
		return WebSession{}, err
	}
	if row.EndedAt != nil || !s.now().Before(row.ExpiresAt) {
		return WebSession{}, errNoSession
	}
	if u.Disabled {
		return WebSession{}, Errorf(CodeUnauthorized, "账号不存在或已停用")
	}
	if u.TokenGeneration != row.TokenGeneration {
		return WebSession{}, errPasswordReset()
	}
	return WebSession{ID: id, Actor: actorOf(u), User: u, ExpiresAt: row.ExpiresAt}, nil
}

// EndSession signs a browser out; the id stops working on every instance.
func (s *Service) EndSession(ctx context.Context, id string) error {
	if id == "" || len(id) > 64 {
		return nil
	}
	return s.db.EndWebSession(ctx, sessionHash(id), s.now())
}

// CSRFToken is the token a session's forms carry: an HMAC of the session id,
// so it needs no storage and dies with the session.
func (s *Service) CSRFToken(sessionID string) string {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte("csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is the session's CSRF token.
func (s *Service) CheckCSRF(sessionID, token string) bool {
	return sessionID != "" && hmac.Equal([]byte(token), []byte(s.CSRFToken(sessionID)))
}

var errNoSession = Errorf(CodeUnauthorized, "请先登录")

func sessionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// actorOf is the caller an account signs in as.
func actorOf(u models.User) Actor {
	a := Actor{UserID: u.ID, Username: u.Username, Role: u.Role, generation: u.TokenGeneration}
	if u.CountyID != nil {
		a.CountyID = *u.CountyID
	}
	if u.MerchantID != nil {
		a.MerchantID = *u.MerchantID
	}
	return a
}
