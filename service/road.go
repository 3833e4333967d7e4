package service

import (
	"context"
	"errors"

	"github.com/menqian/menqian/models"
)

// RoadInput creates or changes a road; nil fields are left alone on update.
type RoadInput struct {
	CountyID   *int64
	Name       *string
	Town       *string
	LengthM    *int
	OfficerIDs *[]int64
}

// RoadView is a road with its responsible officers.
type RoadView struct {
	models.Road
	OfficerIDs []int64
}

func (s *Service) canManageCounty(a Actor, countyID int64) bool {
	return a.IsCity() || (a.Role == RoleCountyAdmin && a.CountyID == countyID)
}

// CreateRoad adds a road to a county (its county admin, or the city admin).
func (s *Service) CreateRoad(ctx context.Context, a Actor, in RoadInput) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return RoadView{}, errForbidden
	}
	f := fieldErrors{}
	r := models.Road{DemoStatus: "none"}
	if in.CountyID == nil || *in.CountyID <= 0 {
		f.add("county_id", "必填")
	} else {
		r.CountyID = *in.CountyID
	}
	r.Name = f.text("name", deref(in.Name), true, 64)
	r.Town = f.text("town", deref(in.Town), false, 64)
	if in.LengthM != nil {
		if *in.LengthM < 0 || *in.LengthM > 100000 {
			f.add("length_m", "应在 0 到 100000 米之间")
		}
		r.LengthM = in.LengthM
	}
	if err := f.err(); err != nil {
		return RoadView{}, err
	}
	if !s.canManageCounty(a, r.CountyID) {
		return RoadView{}, errForbidden
	}
	if _, err := s.db.CountyByID(ctx, r.CountyID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return RoadView{}, Invalid(map[string]string{"county_id": "区县不存在"})
		}
		return RoadView{}, err
	}
	var officers []int64
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.CreateRoad(ctx, &r); err != nil {
			return storeErr(err, "同名道路")
		}
		if in.OfficerIDs != nil {
			var err error
			if officers, err = s.setRoadOfficers(ctx, r, *in.OfficerIDs); err != nil {
				return err
			}
		}
		after, err := s.roadFields(ctx, r, officers)
		if err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditRoadCreate, objectType: AuditObjectRoad, objectID: r.ID,
			countyID: &r.CountyID, summary: r.Name, after: nonEmpty(after)})
	})
	return RoadView{Road: r, OfficerIDs: officers}, err
}

// setRoadOfficers checks that every id is an officer of the road's county.
func (s *Service) setRoadOfficers(ctx context.Context, r models.Road, ids []int64) ([]int64, error) {
	ids = uniqueIDs(ids)
	if len(ids) > 50 {
		return nil, Invalid(map[string]string{"officer_ids": "最多 50 名责任人"})
	}
	if len(ids) > 0 {
		users, err := s.db.UsersByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		// An unknown id gets the same answer as another county's user, so a
		// county admin cannot probe which accounts exist elsewhere.
		ok := len(users) == len(ids)
		for _, u := range users {
			if u.Role != RoleOfficer || u.CountyID == nil || *u.CountyID != r.CountyID {
				ok = false
			}
		}
		if !ok {
			return nil, Invalid(map[string]string{"officer_ids": "责任人须为本区县巡查员"})
		}
	}
	return ids, s.db.SetRoadOfficers(ctx, r.ID, ids)
}

// Road returns a road visible to the actor (admins and officers of its county).
func (s *Service) Road(ctx context.Context, a Actor, id int64) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return RoadView{}, errForbidden
	}
	r, err := s.roadInCounty(ctx, a, id)
	if err != nil {
		return RoadView{}, err
	}
	off, err := s.db.RoadOfficers(ctx, []int64{id})
	return RoadView{Road: r, OfficerIDs: off[id]}, err
}

// roadInCounty is the road id if it lies in one of the actor's counties;
// CodeNotFound otherwise.
func (s *Service) roadInCounty(ctx context.Context, a Actor, id int64) (models.Road, error) {
	r, err := s.db.RoadByID(ctx, id)
	if err != nil {
		return models.Road{}, storeErr(err, "道路")
	}
	if !a.InCounty(r.CountyID) {
		return models.Road{}, errNotFound
	}
	return r, nil
}

// CountyRoads lists every road of a county by id, with its officers (as
// Roads, all pages at once), from the county's view.
func (s *Service) CountyRoads(ctx context.Context, a Actor, countyID int64) ([]RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return nil, errForbidden
	}
	if !a.InCounty(countyID) {
		return nil, errForbidden
	}
	if _, err := s.countyOf(ctx, "county", countyID); err != nil {
		return nil, err
	}
	cv, err := s.countyView(ctx, countyID, s.policy.CycleOf(s.now()))
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(cv.roads))
	for i, r := range cv.roads {
		ids[i] = r.ID
	}
	off, err := s.db.RoadOfficers(ctx, ids)
	out := make([]RoadView, len(cv.roads))
	for i, r := range cv.roads {
		out[i] = RoadView{Road: r, OfficerIDs: off[r.ID]}
	}
	return out, err
}

// Roads lists roads of the actor's counties, optionally of one county.
func (s *Service) Roads(ctx context.Context, a Actor, countyID int64, p Paging) ([]RoadView, int64, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin, RoleOfficer) {
		return nil, 0, errForbidden
	}
	p, err := p.check()
	if err != nil {
		return nil, 0, err
	}
	scope := a.countyScope()
	if countyID != 0 {
		if !a.InCounty(countyID) {
			return nil, 0, errForbidden
		}
		scope = []int64{countyID}
	}
	roads, total, err := s.db.ListRoads(ctx, models.RoadFilter{CountyIDs: scope, Limit: p.Limit, Offset: p.Offset})
	if err != nil || len(roads) == 0 {
		return []RoadView{}, total, err
	}
	ids := make([]int64, len(roads))
	for i, r := range roads {
		ids[i] = r.ID
	}
	off, err := s.db.RoadOfficers(ctx, ids)
	out := make([]RoadView, len(roads))
	for i, r := range roads {
		out[i] = RoadView{Road: r, OfficerIDs: off[r.ID]}
	}
	return out, total, err
}

// UpdateRoad changes the named fields of a road (county admin of its county).
func (s *Service) UpdateRoad(ctx context.Context, a Actor, id int64, in RoadInput) (RoadView, error) {
	if !a.can(RoleCityAdmin, RoleCountyAdmin) {
		return RoadView{}, errForbidden
	}
	r, err := s.roadInCounty(ctx, a, id)
	if err != nil {
		return RoadView{}, err
	}
	f := fieldErrors{}
	cols := map[string]any{}
	if in.CountyID != nil && *in.CountyID != r.CountyID {
		f.add("county_id", "道路所属区县不可修改")
	}
	if in.Name != nil {
		cols["name"] = f.text("name", *in.Name, true, 64)
	}
	if in.Town != nil {
		cols["town"] = f.text("town", *in.Town, false, 64)
	}
	if in.LengthM != nil {
		if *in.LengthM < 0 || *in.LengthM > 100000 {
			f.add("length_m", "应在 0 到 100000 米之间")
		}
		cols["length_m"] = *in.LengthM
	}
	if err := f.err(); err != nil {
		return RoadView{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		before, err := s.lockedRoadFields(ctx, id)
		if err != nil {
			return err
		}
		if err := s.db.UpdateRoad(ctx, id, cols); err != nil {
			return storeErr(err, "同名道路")
		}
		if in.OfficerIDs != nil {
			if _, err := s.setRoadOfficers(ctx, r, *in.OfficerIDs); err != nil {
				return err
			}
		}
		after, err := s.lockedRoadFields(ctx, id)
		if err != nil {
			return err
		}
		return s.auditChange(ctx, a, auditRecord{kind: AuditRoadUpdate, objectType: AuditObjectRoad, objectID: id,
			countyID: &r.CountyID, summary: after["name"].(string), before: before, after: after})
	})
	if err != nil {
		return RoadView{}, err
	}
	return s.Road(ctx, a, id)
}

// lockedRoadFields locks road id for the transaction in ctx and returns its
// audited fields with its responsible officers.
func (s *Service) lockedRoadFields(ctx context.Context, id int64) (map[string]any, error) {
	if err := s.db.LockForChange(ctx, "roads", id); err != nil {
		return nil, storeErr(err, "道路")
	}
	r, err := s.db.RoadByID(ctx, id)
	if err != nil {
		return nil, storeErr(err, "道路")
	}
	off, err := s.db.RoadOfficers(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	return s.roadFields(ctx, r, off[id])
}
