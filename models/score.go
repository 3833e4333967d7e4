package models

import (
	"context"
	"slices"
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

// RecordLock is what a recording transaction holds for one merchant: the
// merchant, its score rows of the cycles that decide its standing, and how
// many of the evidence photos exist, how many of those belong to the
// merchant's county, and how many are already evidence of another shop.
type RecordLock struct {
	Merchant        Merchant
	Scores          []Score
	PhotosFound     int
	PhotosInCounty  int
	PhotosElsewhere int
}

// CountPhotos fills the photo counts of lk for the photos named, given every
// one that exists (LockEvidencePhotos).
func (lk *RecordLock) CountPhotos(ids []int64, photos map[int64]EvidencePhoto) {
	lk.PhotosFound, lk.PhotosInCounty, lk.PhotosElsewhere = 0, 0, 0
	for _, id := range ids {
		p, ok := photos[id]
		if !ok {
			continue
		}
		lk.PhotosFound++
		if p.CountyID == lk.Merchant.CountyID {
			lk.PhotosInCounty++
		}
		if p.MerchantID != nil && *p.MerchantID != lk.Merchant.ID {
			lk.PhotosElsewhere++
		}
	}
}

// recordRow is one row of LockForRecords' join.
type recordRow struct {
	Merchant    `gorm:"embedded"`
	SCycle      *string
	SDeductions int
	SBonuses    int
	SSerious    int
	SScore      int
	SEntries    int
}

// LockForRecords reads, in one statement, the merchants and their score rows
// of the cycles, and locks them until the transaction ends (FOR UPDATE on
// MySQL, in merchant id order, so transactions locking several merchants
// never deadlock on each other; on SQLite the IMMEDIATE transaction already
// holds the database's write lock). Missing merchants are absent from the
// result; missing score rows are simply not in Scores. Photo counts are left
// at zero (see CountPhotos).
func (db *DB) LockForRecords(ctx context.Context, merchantIDs []int64, cycles []string) (map[int64]*RecordLock, error) {
	lock := ""
	if db.dialect == MySQL {
		lock = " FOR UPDATE"
	}
	var rows []recordRow
	err := db.conn(ctx).Raw(`SELECT m.*, s.cycle AS s_cycle, s.deductions AS s_deductions, s.bonuses AS s_bonuses,
		s.serious AS s_serious, s.score AS s_score, s.entries AS s_entries
		FROM merchants m LEFT JOIN scores s ON s.merchant_id = m.id AND s.cycle IN ?
		WHERE m.id IN ? ORDER BY m.id`+lock, cycles, merchantIDs).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	if err := db.lockCountyVersions(ctx, rows); err != nil {
		return nil, err
	}
	out := make(map[int64]*RecordLock, len(merchantIDs))
	for _, r := range rows {
		lk := out[r.ID]
		if lk == nil {
			lk = &RecordLock{Merchant: r.Merchant}
			out[r.ID] = lk
		}
		if r.SCycle != nil {
			lk.Scores = append(lk.Scores, Score{MerchantID: r.ID, Cycle: *r.SCycle, Deductions: r.SDeductions,
				Bonuses: r.SBonuses, Serious: r.SSerious, Score: r.SScore, Entries: r.SEntries})
		}
	}
	return out, nil
}

// lockCountyVersions locks, on MySQL, the change versions of the counties of
// the locked merchants, in county order. The triggers that log the records'
// changes lock them anyway, one at a time as rows are written: two batches
// with shops of two counties would take them in opposite orders and
// deadlock.
func (db *DB) lockCountyVersions(ctx context.Context, rows []recordRow) error {
	if db.dialect != MySQL {
		return nil
	}
	var counties []int64
	for _, r := range rows {
		if !slices.Contains(counties, r.CountyID) {
			counties = append(counties, r.CountyID)
		}
	}
	if len(counties) < 2 {
		return nil // one county: its version is the only one the batch takes
	}
	var versions []int64
	err := db.conn(ctx).Raw(`SELECT version FROM county_versions WHERE county_id IN ? ORDER BY county_id FOR UPDATE`, counties).
		Scan(&versions).Error
	return translate(err)
}

// LockForRecord is LockForRecords for one merchant, with the photo counts
// filled in (the photos locked first, see LockEvidencePhotos). A missing
// merchant is ErrNotFound.
func (db *DB) LockForRecord(ctx context.Context, merchantID int64, cycles []string, photoIDs []int64) (RecordLock, error) {
	photos, err := db.LockEvidencePhotos(ctx, photoIDs)
	if err != nil {
		return RecordLock{}, err
	}
	locks, err := db.LockForRecords(ctx, []int64{merchantID}, cycles)
	if err != nil {
		return RecordLock{}, err
	}
	lk, ok := locks[merchantID]
	if !ok {
		return RecordLock{}, ErrNotFound
	}
	lk.CountPhotos(photoIDs, photos)
	return *lk, nil
}

// ScoresOf returns the merchants' rows for the cycles, unlocked.
func (db *DB) ScoresOf(ctx context.Context, merchantIDs []int64, cycles []string) ([]Score, error) {
	var out []Score
	err := db.conn(ctx).Where("merchant_id IN ? AND cycle IN ?", merchantIDs, cycles).Find(&out).Error
	return out, translate(err)
}

// SetScores writes locked rows' new tallies, scores and entry counts, all
// absolute values computed under the rows' locks, in one statement.
func (db *DB) SetScores(ctx context.Context, rows []Score) error {
	if len(rows) == 0 {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range rows {
		rows[i].UpdatedAt = now
	}
	return translate(db.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "merchant_id"}, {Name: "cycle"}},
		DoUpdates: clause.AssignmentColumns([]string{"deductions", "bonuses", "serious", "score", "entries", "updated_at"}),
	}).Create(&rows).Error)
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
