package models

import "context"

// RoadProgress is how far a road's inspections of a cycle have come.
type RoadProgress struct {
	RoadID    int64
	Active    int // active merchants
	Inspected int // of them, inspected at least once in the cycle
}

// RoadProgressOfCounty returns the progress of every road of a county that
// has active merchants, for cycle.
func (db *DB) RoadProgressOfCounty(ctx context.Context, countyID int64, cycle string) ([]RoadProgress, error) {
	var out []RoadProgress
	err := db.conn(ctx).Raw(`SELECT m.road_id, COUNT(*) AS active, COUNT(i.merchant_id) AS inspected
		FROM merchants m LEFT JOIN (SELECT DISTINCT merchant_id FROM inspections WHERE cycle = ?) i ON i.merchant_id = m.id
		WHERE m.county_id = ? AND m.status = 'active' GROUP BY m.road_id`, cycle, countyID).Scan(&out).Error
	return out, translate(err)
}

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
