package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// County change versions (migration 00013): triggers bump a county's version
// and log the changed shop in every transaction that changes what the
// county's views show. These are the reads of that log.

// CountyChange is one logged change: the shop that changed, 0 for the county
// itself or one of its roads.
type CountyChange struct {
	Version    int64
	MerchantID int64
}

// CountyVersion returns a county's change version (0 for a county that has
// none, such as one unknown).
func (db *DB) CountyVersion(ctx context.Context, countyID int64) (int64, error) {
	var v int64
	err := db.SQL().QueryRowContext(ctx, `SELECT version FROM county_versions WHERE county_id = ?`, countyID).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return v, translate(err)
}

// Besides the counties (ids from 1), CountyVersions answers under these keys
// two more counters that only grow and that pages show: how many cycles were
// closed, and the newest audit event (the audit log; it is append-only).
const (
	ClosedCyclesKey int64 = 0
	AuditEventsKey  int64 = -1
)

// IsCounty tells a county's key of CountyVersions from the counters'.
func IsCounty(key int64) bool { return key > 0 }

// CountyVersions returns every county's change version (and the counters
// above), as of a read that
// started after the call. The map may be shared with other callers (on
// SQLite the same map answers until something is committed): read only.
func (db *DB) CountyVersions(ctx context.Context) (map[int64]int64, error) {
	if db.versions != nil {
		return db.versions.read(ctx)
	}
	return queryVersions(ctx, db.SQL())
}

// queryer is a pool or a pinned connection.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryVersions reads every county's change version into a new map.
func queryVersions(ctx context.Context, q queryer) (map[int64]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT county_id, version FROM county_versions
		UNION ALL SELECT 0, COUNT(*) FROM closed_cycles
		UNION ALL SELECT -1, COALESCE(MAX(id), 0) FROM audit_events`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, translate(err)
		}
		out[id] = v
	}
	return out, translate(rows.Err())
}

// CountyChanges returns the county's changes after version from up to
// version to, in version order. A reader that holds everything up to from and
// gets fewer than to-from changes is behind the pruned log and must start over.
func (db *DB) CountyChanges(ctx context.Context, countyID, from, to int64) ([]CountyChange, error) {
	rows, err := db.SQL().QueryContext(ctx, `SELECT version, merchant_id FROM county_changes
		WHERE county_id = ? AND version > ? AND version <= ? ORDER BY version`, countyID, from, to)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []CountyChange
	for rows.Next() {
		var c CountyChange
		if err := rows.Scan(&c.Version, &c.MerchantID); err != nil {
			return nil, translate(err)
		}
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

// PruneCountyChanges forgets each county's changes older than its last keep,
// and returns how many it deleted.
func (db *DB) PruneCountyChanges(ctx context.Context, keep int64) (int64, error) {
	vs, err := db.CountyVersions(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for county, v := range vs {
		if !IsCounty(county) || v <= keep {
			continue
		}
		res := db.conn(ctx).Exec(`DELETE FROM county_changes WHERE county_id = ? AND version <= ?`, county, v-keep)
		if res.Error != nil {
			return n, translate(res.Error)
		}
		n += res.RowsAffected
	}
	return n, nil
}

// CheckCountyVersions lists what is wrong with the change log: a county
// without a version row, a logged change above its county's version, or
// versions missing between the oldest logged change and the county's version
// (the log is only ever pruned from below).
func (db *DB) CheckCountyVersions(ctx context.Context) ([]string, error) {
	var problems []string
	var missing []int64
	err := db.conn(ctx).Raw(`SELECT c.id FROM counties c LEFT JOIN county_versions v ON v.county_id = c.id
		WHERE v.county_id IS NULL ORDER BY c.id`).Scan(&missing).Error
	if err != nil {
		return nil, translate(err)
	}
	for _, id := range missing {
		problems = append(problems, fmt.Sprintf("county %d: no change version", id))
	}
	var rows []struct {
		CountyID int64
		Version  int64
		Oldest   *int64
		Newest   *int64
		N        int64
	}
	err = db.conn(ctx).Raw(`SELECT v.county_id, v.version, MIN(c.version) AS oldest, MAX(c.version) AS newest, COUNT(c.version) AS n
		FROM county_versions v LEFT JOIN county_changes c ON c.county_id = v.county_id
		GROUP BY v.county_id, v.version ORDER BY v.county_id`).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		switch {
		case r.N == 0:
		case *r.Newest > r.Version:
			problems = append(problems, fmt.Sprintf("county %d: change %d logged above its version %d", r.CountyID, *r.Newest, r.Version))
		case *r.Newest != r.Version || r.N != r.Version-*r.Oldest+1:
			problems = append(problems, fmt.Sprintf("county %d: version %d, but its log holds %d changes from %d to %d", r.CountyID,
				r.Version, r.N, *r.Oldest, *r.Newest))
		}
	}
	return problems, nil
}

// ViewMerchant is a shop as a county view needs it, whatever its status.
type ViewMerchant struct {
	CountyMerchant
	CountyID int64
	Status   string
	ClosedAt *time.Time
}

// ViewMerchantsByIDs returns the shops with the given ids.
func (db *DB) ViewMerchantsByIDs(ctx context.Context, ids []int64) ([]ViewMerchant, error) {
	var out []ViewMerchant
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var page []ViewMerchant
		err := db.conn(ctx).Table("merchants").Select("id, code, name, road_id, created_at, county_id, status, closed_at").
			Where("id IN ?", ids[:n]).Scan(&page).Error
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, page...)
		ids = ids[n:]
	}
	return out, nil
}

// NextNoticeDue returns the earliest due time at or after from and before
// until of the county's notices not yet resolved, zero when there is none:
// when a county's overdue notices next change without a write.
func (db *DB) NextNoticeDue(ctx context.Context, countyID int64, from, until time.Time) (time.Time, error) {
	var due []Notice
	err := db.conn(ctx).Select("due_at").Where("county_id = ? AND due_at >= ? AND due_at < ? AND resolved_at IS NULL", countyID, from, until).
		Order("due_at").Limit(1).Find(&due).Error
	if err != nil || len(due) == 0 {
		return time.Time{}, translate(err)
	}
	return due[0].DueAt, nil
}
