package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// AuditEvent is one administrative change (操作记录): who, when, what, and
// the changed fields before and after, as JSON objects ("" when there is no
// side: nothing before a creation). Database triggers refuse UPDATE and
// DELETE, as for the ledger.
type AuditEvent struct {
	ID         int64
	CountyID   *int64 // nil: a city-level change
	ActorID    int64
	ActorName  string // the actor's username at the time
	Kind       string
	ObjectType string
	ObjectID   int64
	Summary    string
	BeforeJSON string
	AfterJSON  string
	OccurredAt time.Time
}

// errAuditOutsideTx refuses an audit event written on its own: it must
// commit, or roll back, with the change it records.
var errAuditOutsideTx = errors.New("audit event outside the transaction of its change")

// AppendAudit stores e in the transaction carried by ctx, and only there.
func (db *DB) AppendAudit(ctx context.Context, e *AuditEvent) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); !ok {
		return errAuditOutsideTx
	}
	return translate(db.conn(ctx).Create(e).Error)
}

// AuditFilter narrows ListAuditEvents. CountyIDs nil means every county and
// the city-level events.
type AuditFilter struct {
	CountyIDs []int64
	Kind      string
	Limit     int
	Offset    int
}

// ListAuditEvents returns one page of events, newest first, and the total.
func (db *DB) ListAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, int64, error) {
	q := db.conn(ctx).Model(&AuditEvent{})
	if f.CountyIDs != nil {
		q = q.Where("county_id IN ?", f.CountyIDs)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	return page[AuditEvent](q, "id DESC", f.Limit, f.Offset)
}

// lockable are the tables whose rows LockForChange locks.
var lockable = map[string]bool{"counties": true, "roads": true, "merchants": true, "users": true}

// LockForChange locks row id of table until the transaction in ctx ends, so
// what is read next is what the change starts from and what the audit log
// calls "before" (FOR UPDATE on MySQL; on SQLite the IMMEDIATE transaction
// already holds the database's write lock). A missing row is ErrNotFound.
func (db *DB) LockForChange(ctx context.Context, table string, id int64) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); !ok {
		return fmt.Errorf("lock %s %d outside a transaction", table, id)
	}
	if !lockable[table] {
		return fmt.Errorf("lock: unknown table %q", table)
	}
	lock := ""
	if db.dialect == MySQL {
		lock = " FOR UPDATE"
	}
	var ids []int64
	if err := db.conn(ctx).Raw("SELECT id FROM "+table+" WHERE id = ?"+lock, id).Scan(&ids).Error; err != nil {
		return translate(err)
	}
	if len(ids) == 0 {
		return ErrNotFound
	}
	return nil
}
