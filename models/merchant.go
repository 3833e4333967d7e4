package models

import (
	"context"
	"fmt"
	"time"
)

// MerchantActive is the status of a shop in business (the other: "closed").
const MerchantActive = "active"

// Merchant is a shop with a plaque (一户一码). Code is public and random; ID is internal.
type Merchant struct {
	ID           int64
	Code         string
	CountyID     int64
	RoadID       int64
	Name         string
	USCC         *string `gorm:"column:uscc"`
	Category     string
	OwnerName    string
	Phone        string
	Address      string
	Lat          *float64
	Lng          *float64
	Status       string
	QRGeneration int `gorm:"column:qr_generation"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ClosedAt     *time.Time // when Status became closed; nil while active
}

// MerchantFilter narrows ListMerchants. CountyIDs nil means every county.
type MerchantFilter struct {
	CountyIDs []int64
	RoadID    int64
	Status    string
	Query     string // matches name, code, address or USCC
	Limit     int
	Offset    int
	// Standing, when set, filters by the merchants' standing in a cycle and
	// allows sorting by their live score.
	Standing *StandingFilter
	Sort     string // MerchantSort*; "" is by id
	Desc     bool   // the sort descending (ties stay in ascending order)
}

// Orders of ListMerchants.
const (
	MerchantSortName  = "name"  // name, then id
	MerchantSortCode  = "code"  // code
	MerchantSortRoad  = "road"  // road name, then merchant name, then id
	MerchantSortScore = "score" // live score (needs Standing), then code
)

// StandingFilter narrows merchants by their standing in Cycle, read from the
// score rows (a cycle without a row has BaseScore). Its "rated score" is the
// lower of the live score of Cycle and, for merchants registered before
// Since, the final score of Previous: the displayed star is the star of that
// score, capped when a serious item falls in one of CapCycles and no credit
// repair granted before RepairedBefore covers its cycle.
type StandingFilter struct {
	Cycle          string
	Previous       string
	Since          time.Time
	CapCycles      []string
	RepairedBefore time.Time
	BaseScore      int
	// LiveBelow keeps merchants whose live score is below it (重点监管); 0: no bound.
	LiveBelow int
	// Rated keeps merchants whose rated score lies in Rated when no cap
	// applies, or in Capped when one does; nil: no bound.
	Rated, Capped *ScoreBand
}

// ScoreBand is the scores Lo ≤ score < Hi; Lo ≥ Hi matches nothing.
type ScoreBand struct{ Lo, Hi int }

// CreateMerchant stores m. A taken code or USCC is ErrDuplicate.
func (db *DB) CreateMerchant(ctx context.Context, m *Merchant) error {
	return translate(db.conn(ctx).Create(m).Error)
}

// CreateMerchants stores many merchants in batches, inside the caller's transaction.
func (db *DB) CreateMerchants(ctx context.Context, ms []Merchant) error {
	return translate(db.conn(ctx).CreateInBatches(ms, db.rowsPerInsert()).Error)
}

// MerchantByID returns one merchant or ErrNotFound.
func (db *DB) MerchantByID(ctx context.Context, id int64) (Merchant, error) {
	var m Merchant
	return m, translate(db.conn(ctx).Take(&m, id).Error)
}

// MerchantByCode returns the merchant with the public code or ErrNotFound.
func (db *DB) MerchantByCode(ctx context.Context, code string) (Merchant, error) {
	var m Merchant
	return m, translate(db.conn(ctx).Where("code = ?", code).Take(&m).Error)
}

// ListMerchants returns one page of merchants, in the filter's order, and
// the total. The standing filters and sorts run in SQL: one page is read,
// never the whole county.
func (db *DB) ListMerchants(ctx context.Context, f MerchantFilter) ([]Merchant, int64, error) {
	q := db.conn(ctx).Model(&Merchant{})
	if f.CountyIDs != nil {
		q = q.Where("merchants.county_id IN ?", f.CountyIDs)
	}
	if f.RoadID != 0 {
		q = q.Where("merchants.road_id = ?", f.RoadID)
	}
	if f.Status != "" {
		q = q.Where("merchants.status = ?", f.Status)
	}
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		q = q.Where("merchants.name LIKE ? ESCAPE '!' OR merchants.code = ? OR merchants.address LIKE ? ESCAPE '!' OR merchants.uscc = ?",
			like, f.Query, like, f.Query)
	}
	live := ""
	if st := f.Standing; st != nil {
		// One row per merchant and cycle (the primary key): the joins keep the count.
		q = q.Joins("LEFT JOIN scores sc ON sc.merchant_id = merchants.id AND sc.cycle = ?", st.Cycle)
		live = fmt.Sprintf("COALESCE(sc.score, %d)", st.BaseScore)
		if st.LiveBelow != 0 {
			q = q.Where(live+" < ?", st.LiveBelow)
		}
		if st.Rated != nil && st.Capped != nil {
			q = q.Joins("LEFT JOIN scores sp ON sp.merchant_id = merchants.id AND sp.cycle = ?", st.Previous)
			prev := fmt.Sprintf("COALESCE(sp.score, %d)", st.BaseScore)
			rated := "(CASE WHEN merchants.created_at < ? AND " + prev + " < " + live + " THEN " + prev + " ELSE " + live + " END)"
			capped := "EXISTS (SELECT 1 FROM scores sx WHERE sx.merchant_id = merchants.id AND sx.cycle IN ? AND sx.serious > 0" +
				" AND NOT EXISTS (SELECT 1 FROM repairs rp WHERE rp.merchant_id = sx.merchant_id AND rp.through_cycle >= sx.cycle AND rp.granted_at < ?))"
			since := st.Since.UTC()
			// Scores are whole numbers: Lo ≤ s < Hi is s BETWEEN Lo AND Hi-1,
			// and each row evaluates the cap once and one band.
			q = q.Where("CASE WHEN "+capped+" THEN "+rated+" BETWEEN ? AND ? ELSE "+rated+" BETWEEN ? AND ? END",
				st.CapCycles, st.RepairedBefore.UTC(), since, st.Capped.Lo, st.Capped.Hi-1, since, st.Rated.Lo, st.Rated.Hi-1)
		}
	}
	order := "merchants.id"
	dir := ""
	if f.Desc {
		dir = " DESC"
	}
	switch f.Sort {
	case MerchantSortName:
		order = "merchants.name" + dir + ", merchants.id"
	case MerchantSortCode:
		order = "merchants.code" + dir
	case MerchantSortRoad:
		q = q.Joins("JOIN roads ON roads.id = merchants.road_id")
		order = "roads.name" + dir + ", merchants.name, merchants.id"
	case MerchantSortScore:
		if live == "" {
			return nil, 0, fmt.Errorf("models: sorting merchants by score needs a standing filter")
		}
		order = live + dir + ", merchants.code"
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err)
	}
	var out []Merchant
	err := q.Select("merchants.*").Order(order).Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	return out, total, translate(err)
}

// escapeLike makes user text literal inside a LIKE pattern (escape char '!').
func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '!' {
			out = append(out, '!')
		}
		out = append(out, r)
	}
	return string(out)
}

// UpdateMerchant writes the named columns of merchant id.
func (db *DB) UpdateMerchant(ctx context.Context, id int64, cols map[string]any) error {
	return db.updateColumns(ctx, &Merchant{}, id, cols)
}

// BumpQRGeneration increments the plaque generation so older plaques stop resolving.
func (db *DB) BumpQRGeneration(ctx context.Context, id int64) (int, error) {
	var gen int
	err := db.InTx(ctx, func(ctx context.Context) error {
		res := db.conn(ctx).Exec("UPDATE merchants SET qr_generation = qr_generation + 1, updated_at = ? WHERE id = ?",
			time.Now().UTC().Truncate(time.Millisecond), id)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return translate(db.conn(ctx).Model(&Merchant{}).Where("id = ?", id).Pluck("qr_generation", &gen).Error)
	})
	return gen, err
}

// MerchantsByIDs returns the merchants with the given ids.
func (db *DB) MerchantsByIDs(ctx context.Context, ids []int64) ([]Merchant, error) {
	var out []Merchant
	return out, translate(db.conn(ctx).Where("id IN ?", ids).Find(&out).Error)
}

// MerchantsByUSCC returns the merchants registered with any of the codes, by code.
func (db *DB) MerchantsByUSCC(ctx context.Context, usccs []string) (map[string]Merchant, error) {
	out := make(map[string]Merchant, len(usccs))
	for start := 0; start < len(usccs); start += 1000 {
		end := min(start+1000, len(usccs))
		var ms []Merchant
		if err := db.conn(ctx).Where("uscc IN ?", usccs[start:end]).Find(&ms).Error; err != nil {
			return nil, translate(err)
		}
		for _, m := range ms {
			out[*m.USCC] = m
		}
	}
	return out, nil
}
