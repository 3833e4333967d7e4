package models

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Road is a street of a county, with its demonstration-road (示范路) status.
type Road struct {
	ID            int64
	CountyID      int64
	Name          string
	Town          string
	LengthM       *int
	DemoStatus    string
	DemoChangedAt *time.Time
	DemoChangedBy *int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// RoadFilter narrows ListRoads. CountyIDs nil means every county.
type RoadFilter struct {
	CountyIDs []int64
	Limit     int
	Offset    int
}

// CreateRoad stores r. A duplicate name in the county is ErrDuplicate.
func (db *DB) CreateRoad(ctx context.Context, r *Road) error {
	return translate(db.conn(ctx).Create(r).Error)
}

// RoadByID returns one road or ErrNotFound.
func (db *DB) RoadByID(ctx context.Context, id int64) (Road, error) {
	var r Road
	return r, translate(db.conn(ctx).Take(&r, id).Error)
}

// RoadByName finds a road by its name within a county.
func (db *DB) RoadByName(ctx context.Context, countyID int64, name string) (Road, error) {
	var r Road
	return r, translate(db.conn(ctx).Where("county_id = ? AND name = ?", countyID, name).Take(&r).Error)
}

// ListRoads returns one page of roads and the total.
func (db *DB) ListRoads(ctx context.Context, f RoadFilter) ([]Road, int64, error) {
	q := db.conn(ctx).Model(&Road{})
	if f.CountyIDs != nil {
		q = q.Where("county_id IN ?", f.CountyIDs)
	}
	return page[Road](q, "county_id, id", f.Limit, f.Offset)
}

// UpdateRoad writes the named columns of road id.
func (db *DB) UpdateRoad(ctx context.Context, id int64, cols map[string]any) error {
	return db.updateColumns(ctx, &Road{}, id, cols)
}

// RoadOfficer links a responsible officer (定人定责) to a road.
type RoadOfficer struct {
	RoadID int64 `gorm:"primaryKey"`
	UserID int64 `gorm:"primaryKey"`
}

// SetRoadOfficers replaces the road's responsible officers.
func (db *DB) SetRoadOfficers(ctx context.Context, roadID int64, userIDs []int64) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if err := db.conn(ctx).Where("road_id = ?", roadID).Delete(&RoadOfficer{}).Error; err != nil {
			return translate(err)
		}
		if len(userIDs) == 0 {
			return nil
		}
		links := make([]RoadOfficer, len(userIDs))
		for i, u := range userIDs {
			links[i] = RoadOfficer{RoadID: roadID, UserID: u}
		}
		return translate(db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&links).Error)
	})
}

// RoadOfficers returns the officer ids of each road in roadIDs.
func (db *DB) RoadOfficers(ctx context.Context, roadIDs []int64) (map[int64][]int64, error) {
	var links []RoadOfficer
	if err := db.conn(ctx).Where("road_id IN ?", roadIDs).Order("road_id, user_id").Find(&links).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[int64][]int64)
	for _, l := range links {
		out[l.RoadID] = append(out[l.RoadID], l.UserID)
	}
	return out, nil
}
