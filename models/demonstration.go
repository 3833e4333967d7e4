package models

import (
	"context"
	"time"
)

// RoadDemoEvent records one change of a road's demonstration status: who and when.
type RoadDemoEvent struct {
	ID         int64
	RoadID     int64
	FromStatus string
	ToStatus   string
	ChangedBy  int64
	Note       string
	ChangedAt  time.Time
}

// SetDemoStatus moves a road to status `to` if it is still `from`, recording
// the event in the same transaction. A road that moved meanwhile is ErrNotFound.
func (db *DB) SetDemoStatus(ctx context.Context, ev RoadDemoEvent) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		res := db.conn(ctx).Exec(`UPDATE roads SET demo_status = ?, demo_changed_at = ?, demo_changed_by = ?, updated_at = ?
			WHERE id = ? AND demo_status = ?`, ev.ToStatus, ev.ChangedAt, ev.ChangedBy, ev.ChangedAt, ev.RoadID, ev.FromStatus)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return translate(db.conn(ctx).Create(&ev).Error)
	})
}

// DemoEvents returns a road's demonstration history, oldest first.
func (db *DB) DemoEvents(ctx context.Context, roadID int64) ([]RoadDemoEvent, error) {
	var out []RoadDemoEvent
	return out, translate(db.conn(ctx).Where("road_id = ?", roadID).Order("id").Find(&out).Error)
}
