package models

import "context"

// InspectedAmong returns which of the merchants ids were inspected in cycle.
func (db *DB) InspectedAmong(ctx context.Context, ids []int64, cycle string) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var got []int64
	err := db.conn(ctx).Raw(`SELECT DISTINCT merchant_id FROM inspections WHERE cycle = ? AND merchant_id IN ?`, cycle, ids).
		Scan(&got).Error
	for _, id := range got {
		out[id] = true
	}
	return out, translate(err)
}
