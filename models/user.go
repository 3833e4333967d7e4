package models

import (
	"context"
	"gorm.io/gorm"
	"time"
)

// User is an account: a city or county admin, a patrol officer, or a merchant.
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	Role         string
	CountyID     *int64
	MerchantID   *int64
	DisplayName  string
	Disabled     bool
	// TokenGeneration counts password resets; a login token is good only
	// for the generation it was issued under.
	TokenGeneration int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// CreateUser stores u. A taken username is ErrDuplicate.
func (db *DB) CreateUser(ctx context.Context, u *User) error {
	return translate(db.conn(ctx).Create(u).Error)
}

// UserByID returns one user or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	return u, translate(db.conn(ctx).Take(&u, id).Error)
}

// UserByUsername returns one user or ErrNotFound.
func (db *DB) UserByUsername(ctx context.Context, username string) (User, error) {
	var u User
	return u, translate(db.conn(ctx).Where("username = ?", username).Take(&u).Error)
}

// UsersByIDs returns the users with the given ids.
func (db *DB) UsersByIDs(ctx context.Context, ids []int64) ([]User, error) {
	var out []User
	return out, translate(db.conn(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error)
}

// CountUsers reports how many accounts exist.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	return n, translate(db.conn(ctx).Model(&User{}).Count(&n).Error)
}

// Setting is one row of the key–value settings table (the generated secret).
type Setting struct {
	Name  string `gorm:"primaryKey"`
	Value string
}

// SettingOrCreate returns the stored value of name, storing value first when
// none exists; concurrent callers on many instances all get the first value.
func (db *DB) SettingOrCreate(ctx context.Context, name, value string) (string, error) {
	var s Setting
	err := db.conn(ctx).Where("name = ?", name).Take(&s).Error
	if err == nil {
		return s.Value, nil
	}
	if err = translate(err); err != ErrNotFound {
		return "", err
	}
	if err := translate(db.conn(ctx).Create(&Setting{Name: name, Value: value}).Error); err != nil && !isDuplicate(err) {
		return "", err
	}
	err = db.conn(ctx).Where("name = ?", name).Take(&s).Error
	return s.Value, translate(err)
}

// UserFilter narrows ListUsers. CountyIDs nil means every county.
type UserFilter struct {
	CountyIDs []int64
	Role      string
	Limit     int
	Offset    int
}

// ListUsers returns one page of accounts, by id, and the total.
func (db *DB) ListUsers(ctx context.Context, f UserFilter) ([]User, int64, error) {
	q := db.conn(ctx).Model(&User{})
	if f.CountyIDs != nil {
		q = q.Where("county_id IN ?", f.CountyIDs)
	}
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	return page[User](q, "id", f.Limit, f.Offset)
}

// UpdateUser writes the named columns of user id.
func (db *DB) UpdateUser(ctx context.Context, id int64, cols map[string]any) error {
	_, reset := cols["password_hash"]
	if disabled, _ := cols["disabled"].(bool); reset || disabled {
		// A new password, or disabling the account, starts a new token
		// generation: tokens and sessions issued under the old one stop
		// working, and re-enabling the account does not revive them.
		cols["token_generation"] = gorm.Expr("token_generation + 1")
	}
	return db.updateColumns(ctx, &User{}, id, cols)
}
