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

// RecordLock is what a recording transaction holds: the merchant, its score
// rows of the cycles that decide its standing, and how many of the evidence
// photos exist and how many of those belong to the merchant's county.
type RecordLock struct {
	Merchant       Merchant
	Scores         []Score
	PhotosFound    int
	PhotosInCounty int
}

// recordRow is one row of LockForRecord's join.
type recordRow struct {
	Merchant       `gorm:"embedded"`
	SCycle         *string
	SDeductions    int
	SBonuses       int
	SSerious       int
	SScore         int
	SEntries       int
	PhotosFound    int
	PhotosInCounty int
}

// LockForRecord reads, in one statement, everything a recording transaction
// decides on, and locks the merchant and its score rows of cycles until the
// transaction ends (FOR UPDATE on MySQL; on SQLite the IMMEDIATE transaction
// already holds the database's write lock). Photos need no lock: they are
// never changed. A missing merchant is ErrNotFound; missing score rows are
// simply absent.
func (db *DB) LockForRecord(ctx context.Context, merchantID int64, cycles []string, photoIDs []int64) (RecordLock, error) {
	conn := db.conn(ctx)
	lock := ""
	if db.dialect == MySQL {
		lock = " FOR UPDATE"
	}
	if photoIDs == nil {
		photoIDs = []int64{}
	}
	var rows []recordRow
	err := conn.Raw(`SELECT m.*, s.cycle AS s_cycle, s.deductions AS s_deductions, s.bonuses AS s_bonuses,
		s.serious AS s_serious, s.score AS s_score, s.entries AS s_entries,
		(SELECT COUNT(*) FROM photos p WHERE p.id IN ?) AS photos_found,
		(SELECT COUNT(*) FROM photos p WHERE p.id IN ? AND p.county_id = m.county_id) AS photos_in_county
		FROM merchants m LEFT JOIN scores s ON s.merchant_id = m.id AND s.cycle IN ?
		WHERE m.id = ?`+lock, photoIDs, photoIDs, cycles, merchantID).Scan(&rows).Error
	if err != nil {
		return RecordLock{}, translate(err)
	}
	if len(rows) == 0 {
		return RecordLock{}, ErrNotFound
	}
	out := RecordLock{Merchant: rows[0].Merchant, PhotosFound: rows[0].PhotosFound, PhotosInCounty: rows[0].PhotosInCounty}
	for _, r := range rows {
		if r.SCycle != nil {
			out.Scores = append(out.Scores, Score{MerchantID: merchantID, Cycle: *r.SCycle, Deductions: r.SDeductions,
				Bonuses: r.SBonuses, Serious: r.SSerious, Score: r.SScore, Entries: r.SEntries})
		}
	}
	return out, nil
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

// MerchantScores is a merchant's registration time with its score rows of some
// cycles: everything its standing depends on, read in one query.
type MerchantScores struct {
	MerchantID int64
	CreatedAt  time.Time
	Scores     []Score
}

// ScoresWithMerchants returns, for each id, the merchant's registration time
// and its rows of the cycles, in one statement.
func (db *DB) ScoresWithMerchants(ctx context.Context, ids []int64, cycles []string) (map[int64]*MerchantScores, error) {
	type row struct {
		ID         int64
		CreatedAt  time.Time
		Cycle      *string
		Deductions int
		Bonuses    int
		Serious    int
		Score      int
		Entries    int
	}
	var rows []row
	err := db.conn(ctx).Raw(`SELECT m.id, m.created_at, s.cycle, s.deductions, s.bonuses, s.serious, s.score, s.entries
		FROM merchants m LEFT JOIN scores s ON s.merchant_id = m.id AND s.cycle IN ? WHERE m.id IN ?`, cycles, ids).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]*MerchantScores, len(ids))
	for _, r := range rows {
		ms := out[r.ID]
		if ms == nil {
			ms = &MerchantScores{MerchantID: r.ID, CreatedAt: r.CreatedAt}
			out[r.ID] = ms
		}
		if r.Cycle != nil {
			ms.Scores = append(ms.Scores, Score{MerchantID: r.ID, Cycle: *r.Cycle, Deductions: r.Deductions,
				Bonuses: r.Bonuses, Serious: r.Serious, Score: r.Score, Entries: r.Entries})
		}
	}
	return out, nil
}
