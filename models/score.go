package models

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Score is a merchant's tally for one cycle, kept in the same transaction as
// the ledger entries that make it. Score is the live score the policy gives the
// tally, stored so rankings can sort in SQL.
type Score struct {
	MerchantID int64  `gorm:"primaryKey"`
	Cycle      string `gorm:"primaryKey"`
	Deductions int
	Bonuses    int
	Serious    int
	Score      int
	Entries    int
	UpdatedAt  time.Time
}

// EnsureScoreRow creates the zero row of a merchant's cycle if it is missing,
// so the recording transaction can lock an existing row (no gap locks).
func (db *DB) EnsureScoreRow(ctx context.Context, merchantID int64, cycle string, base int) error {
	row := Score{MerchantID: merchantID, Cycle: cycle, Score: base, UpdatedAt: time.Now().UTC()}
	return translate(db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error)
}

// LockScores reads the merchant's rows for cycles, locking them (FOR UPDATE on
// MySQL; SQLite's IMMEDIATE transaction already holds the write lock).
func (db *DB) LockScores(ctx context.Context, merchantID int64, cycles []string) ([]Score, error) {
	q := db.conn(ctx).Where("merchant_id = ? AND cycle IN ?", merchantID, cycles)
	if db.dialect == MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var out []Score
	return out, translate(q.Find(&out).Error)
}

// ScoresOf returns the merchants' rows for the cycles, unlocked.
func (db *DB) ScoresOf(ctx context.Context, merchantIDs []int64, cycles []string) ([]Score, error) {
	var out []Score
	err := db.conn(ctx).Where("merchant_id IN ? AND cycle IN ?", merchantIDs, cycles).Find(&out).Error
	return out, translate(err)
}

// SetScore writes a locked row's new tally and score (absolute values computed
// under the row lock) and counts the added entries.
func (db *DB) SetScore(ctx context.Context, s Score, addedEntries int) error {
	res := db.conn(ctx).Exec(`UPDATE scores SET deductions = ?, bonuses = ?, serious = ?, score = ?,
		entries = entries + ?, updated_at = ? WHERE merchant_id = ? AND cycle = ?`,
		s.Deductions, s.Bonuses, s.Serious, s.Score, addedEntries, time.Now().UTC().Truncate(time.Millisecond), s.MerchantID, s.Cycle)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// EachScore calls fn for every stored score row, streaming, for the consistency check.
func (db *DB) EachScore(ctx context.Context, fn func(Score) error) error {
	rows, err := db.conn(ctx).Model(&Score{}).Order("merchant_id, cycle").Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Score
		if err := db.conn(ctx).ScanRows(rows, &s); err != nil {
			return translate(err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
