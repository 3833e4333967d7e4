package service

import (
	"testing"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/leaderboard"
)

func TestRankCityRoads(t *testing.T) {
	road := func(id int64, county int64, score float64, merchants int) CityRoad {
		return CityRoad{RoadEntry: leaderboard.RoadEntry{RoadID: id, Score: score, Merchants: merchants}, County: models.County{ID: county}}
	}
	rs := []CityRoad{
		road(1, 1, 95.5, 10), road(2, 1, 0, 0), road(3, 1, 97.25, 3),
		road(4, 2, 95.5, 7), road(5, 2, 99, 1), road(6, 2, 95.50, 2),
	}
	rankCityRoads(rs)
	want := []struct {
		id   int64
		rank int
	}{{5, 1}, {3, 2}, {1, 3}, {4, 3}, {6, 3}, {2, 6}}
	for i, w := range want {
		if rs[i].RoadID != w.id || rs[i].Rank != w.rank {
			t.Errorf("line %d: road %d rank %d, want road %d rank %d", i+1, rs[i].RoadID, rs[i].Rank, w.id, w.rank)
		}
	}
}
