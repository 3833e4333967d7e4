package service

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service/policy"
)

// RoadWork is one road of an officer's worklist.
type RoadWork struct {
	Road        models.Road
	Assigned    bool // the caller is one of its responsible officers (定人定责)
	Active      int  // active shops
	Uninspected int  // of them, not inspected yet this cycle
}

// Worklist is the patrol officer's day: the county's roads, the caller's
// own first, with the shops still to inspect this cycle, and the open
// rectification notices by deadline.
type Worklist struct {
	Cycle   string
	Roads   []RoadWork
	Notices []NoticeLineView // open notices, most urgent first (at most one page)
	Open    int64            // open notices in all
	Overdue int64            // of them, past their deadline
}

// maxWorklistNotices bounds the notices a worklist lists.
const maxWorklistNotices = 50

// OfficerWorklist returns the worklist of the caller's county (officers and
// county admins).
func (s *Service) OfficerWorklist(ctx context.Context, a Actor) (Worklist, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin) {
		return Worklist{}, errForbidden
	}
	cycle := s.policy.CycleOf(s.now())
	c := cycle.String()
	roads, _, err := s.db.ListRoads(ctx, models.RoadFilter{CountyIDs: []int64{a.CountyID}, Limit: 10_000})
	if err != nil {
		return Worklist{}, err
	}
	cv, err := s.countyView(ctx, a.CountyID, cycle)
	if err != nil {
		return Worklist{}, err
	}
	ids := make([]int64, len(roads))
	for i, r := range roads {
		ids[i] = r.ID
	}
	officers, err := s.db.RoadOfficers(ctx, ids)
	if err != nil {
		return Worklist{}, err
	}
	byRoad := make(map[int64]RoadMetrics, len(cv.roadViews))
	for _, r := range cv.roadViews {
		byRoad[r.RoadID] = r.Metrics
	}
	w := Worklist{Cycle: c, Roads: make([]RoadWork, len(roads))}
	for i, r := range roads {
		p := byRoad[r.ID]
		w.Roads[i] = RoadWork{Road: r, Assigned: slices.Contains(officers[r.ID], a.UserID), Active: p.ActiveMerchants,
			Uninspected: p.ActiveMerchants - p.Inspected}
	}
	// Mine first, then the roads with the most left to do.
	slices.SortStableFunc(w.Roads, func(x, y RoadWork) int {
		if x.Assigned != y.Assigned {
			if x.Assigned {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(y.Uninspected, x.Uninspected), cmp.Compare(x.Road.Name, y.Road.Name))
	})
	if w.Notices, w.Open, err = s.NoticeList(ctx, a, NoticeFilter{Status: NoticesOpen, Paging: Paging{Limit: maxWorklistNotices}}); err != nil {
		return Worklist{}, err
	}
	if _, w.Overdue, err = s.NoticeList(ctx, a, NoticeFilter{Status: NoticesOverdue, Paging: Paging{Limit: 1}}); err != nil {
		return Worklist{}, err
	}
	return w, nil
}

// ShopWork is a shop of a road's worklist.
type ShopWork struct {
	Merchant  models.Merchant
	Score     policy.Result
	Inspected bool // this cycle
}

// RoadShops returns a road of the caller's county and its active shops, the
// ones not yet inspected this cycle first (officers and county admins).
func (s *Service) RoadShops(ctx context.Context, a Actor, roadID int64) (RoadView, []ShopWork, error) {
	if !a.can(RoleOfficer, RoleCountyAdmin, RoleCityAdmin) {
		return RoadView{}, nil, errForbidden
	}
	road, err := s.Road(ctx, a, roadID)
	if err != nil {
		return RoadView{}, nil, err
	}
	ms, _, err := s.db.ListMerchants(ctx, models.MerchantFilter{CountyIDs: []int64{road.CountyID}, RoadID: roadID, Status: "active", Limit: 5_000})
	if err != nil {
		return RoadView{}, nil, err
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	c := s.policy.CycleOf(s.now())
	done, err := s.db.InspectedAmong(ctx, ids, c.String())
	if err != nil {
		return RoadView{}, nil, err
	}
	scores, err := s.standings(ctx, ms, c)
	if err != nil {
		return RoadView{}, nil, err
	}
	out := make([]ShopWork, len(ms))
	for i, m := range ms {
		out[i] = ShopWork{Merchant: m, Score: scores[m.ID], Inspected: done[m.ID]}
	}
	slices.SortStableFunc(out, func(x, y ShopWork) int {
		if x.Inspected != y.Inspected {
			if !x.Inspected {
				return -1
			}
			return 1
		}
		return cmp.Compare(x.Merchant.Name, y.Merchant.Name)
	})
	return road, out, nil
}

// NoticeDueSoon is how close to its deadline an open notice is flagged "due soon".
const NoticeDueSoon = 24 * time.Hour
