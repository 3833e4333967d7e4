package models

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// BoardMerchant is a merchant as the leaderboards see it: where it is and its
// live score of one cycle (the base score when the cycle has no row yet).
type BoardMerchant struct {
	ID       int64
	Code     string
	CountyID int64
	RoadID   int64
	Name     string
	Status   string
	Score    int
}

// BoardScope narrows the leaderboard queries to a road, else a county, else
// (both zero) the whole city, and says which merchants rank in the cycle.
type BoardScope struct {
	CountyID int64
	RoadID   int64
	// Ended is when the cycle ends: the merchants registered before it rank
	// in the cycle, those closed at or after it included, as they took part
	// in it. Zero: the active merchants.
	Ended time.Time
}

// where is the scope's condition on merchants m.
func (s BoardScope) where() (string, []any) {
	cond, args := ranked(s.Ended)
	switch {
	case s.RoadID != 0:
		return cond + " AND m.road_id = ?", append(args, s.RoadID)
	case s.CountyID != 0:
		return cond + " AND m.county_id = ?", append(args, s.CountyID)
	}
	return cond, args
}

// ranked is the condition on merchants m of ranking in a cycle that ends at
// ended: registered before the end, and active or closed at or after the end
// (zero: active).
func ranked(ended time.Time) (string, []any) {
	if ended.IsZero() {
		return "m.status = 'active'", nil
	}
	return "m.created_at < ? AND (m.status = 'active' OR m.closed_at >= ?)", []any{ended.UTC(), ended.UTC()}
}

// boardFrom joins each merchant with its score row of the cycle; the first two
// arguments are the base score and the cycle.
const boardFrom = ` FROM merchants m LEFT JOIN scores s ON s.merchant_id = m.id AND s.cycle = ?`

const boardColumns = `SELECT m.id, m.code, m.county_id, m.road_id, m.name, m.status, COALESCE(s.score, ?) AS live`

// BoardPage returns one page of the scope's ranking: live score descending,
// then code ascending (byte order in both dialects).
func (db *DB) BoardPage(ctx context.Context, cycle string, base int, s BoardScope, limit, offset int) ([]BoardMerchant, error) {
	cond, args := s.where()
	q := boardColumns + boardFrom + ` WHERE ` + cond + ` ORDER BY live DESC, m.code ASC LIMIT ? OFFSET ?`
	return db.boardMerchants(ctx, q, append(append([]any{base, cycle}, args...), limit, offset)...)
}

// BoardCount counts the merchants ranked in the scope (the active ones).
func (db *DB) BoardCount(ctx context.Context, s BoardScope) (int, error) {
	cond, args := s.where()
	var n int
	err := db.conn(ctx).Raw(`SELECT COUNT(*) FROM merchants m WHERE `+cond, args...).Scan(&n).Error
	return n, translate(err)
}

// BoardCountAbove counts the scope's ranked merchants whose live score is
// strictly higher than score: a competition rank is that count plus one.
func (db *DB) BoardCountAbove(ctx context.Context, cycle string, base int, s BoardScope, score int) (int, error) {
	cond, args := s.where()
	q := `SELECT COUNT(*)` + boardFrom + ` WHERE ` + cond + ` AND COALESCE(s.score, ?) > ?`
	var n int
	err := db.conn(ctx).Raw(q, append(append([]any{cycle}, args...), base, score)...).Scan(&n).Error
	return n, translate(err)
}

// LiveScore returns the merchant's live score of the cycle, base when it has no row.
func (db *DB) LiveScore(ctx context.Context, merchantID int64, cycle string, base int) (int, error) {
	var scores []int
	err := db.conn(ctx).Raw(`SELECT score FROM scores WHERE merchant_id = ? AND cycle = ?`, merchantID, cycle).Scan(&scores).Error
	if err != nil || len(scores) == 0 {
		return base, translate(err)
	}
	return scores[0], nil
}

// BoardMerchantsByCodes returns the merchants with the given codes, whatever
// their status, with their live scores of the cycle.
func (db *DB) BoardMerchantsByCodes(ctx context.Context, cycle string, base int, codes []string) ([]BoardMerchant, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	var out []BoardMerchant
	for len(codes) > 0 {
		n := min(len(codes), 500)
		args := []any{base, cycle}
		for _, c := range codes[:n] {
			args = append(args, c)
		}
		q := boardColumns + boardFrom + ` WHERE m.code IN (?` + strings.Repeat(",?", n-1) + `)`
		page, err := db.boardMerchants(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		codes = codes[n:]
	}
	return out, nil
}

// EachBoardMerchant streams every active merchant with its live score of the
// cycle to fn, for rebuilding the leaderboards; rows are not held in memory.
func (db *DB) EachBoardMerchant(ctx context.Context, cycle string, base int, fn func(BoardMerchant) error) error {
	rows, err := db.conn(ctx).Raw(boardColumns+boardFrom+` WHERE m.status = 'active'`, base, cycle).Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	return eachBoardMerchant(rows, fn)
}

func (db *DB) boardMerchants(ctx context.Context, q string, args ...any) ([]BoardMerchant, error) {
	rows, err := db.conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []BoardMerchant
	err = eachBoardMerchant(rows, func(m BoardMerchant) error { out = append(out, m); return nil })
	return out, err
}

// eachBoardMerchant scans rows of boardColumns into fn.
func eachBoardMerchant(rows *sql.Rows, fn func(BoardMerchant) error) error {
	for rows.Next() {
		var m BoardMerchant
		if err := rows.Scan(&m.ID, &m.Code, &m.CountyID, &m.RoadID, &m.Name, &m.Status, &m.Score); err != nil {
			return translate(err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// RoadTally is what a road's active merchants' live scores add up to.
type RoadTally struct {
	RoadID    int64
	Total     int64 // sum of the live scores
	Merchants int
}

// RoadTallies sums the live scores of the ranked merchants of each road of the
// county that has any, in a cycle that ends at ended (see BoardScope.Ended).
func (db *DB) RoadTallies(ctx context.Context, cycle string, base int, countyID int64, ended time.Time) ([]RoadTally, error) {
	var out []RoadTally
	cond, args := BoardScope{CountyID: countyID, Ended: ended}.where()
	err := db.conn(ctx).Raw(`SELECT m.road_id, SUM(COALESCE(s.score, ?)) AS total, COUNT(*) AS merchants`+boardFrom+
		` WHERE `+cond+` GROUP BY m.road_id`, append([]any{base, cycle}, args...)...).Scan(&out).Error
	return out, translate(err)
}

// BoardRoads returns the roads of a county (of every county when countyID is
// 0), by id.
func (db *DB) BoardRoads(ctx context.Context, countyID int64) ([]Road, error) {
	q := db.conn(ctx).Order("id")
	if countyID != 0 {
		q = q.Where("county_id = ?", countyID)
	}
	var out []Road
	return out, translate(q.Find(&out).Error)
}

// ActiveMerchantCounts counts the active merchants of each county that has any.
func (db *DB) ActiveMerchantCounts(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		CountyID int64
		N        int
	}
	err := db.conn(ctx).Raw(`SELECT county_id, COUNT(*) AS n FROM merchants WHERE status = 'active' GROUP BY county_id`).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.CountyID] = r.N
	}
	return out, nil
}
