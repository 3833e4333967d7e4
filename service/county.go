package service

import (
	"context"

	"github.com/menqian/menqian/models"
)

// CountyInput creates or changes a county. Nil fields are left alone on update.
type CountyInput struct {
	Code           *string
	Name           *string
	DemoRoadTarget *int
}

// CreateCounty adds a county (city admin only). A taken code is CodeDuplicate.
func (s *Service) CreateCounty(ctx context.Context, a Actor, in CountyInput) (models.County, error) {
	if !a.IsCity() {
		return models.County{}, errForbidden
	}
	f := fieldErrors{}
	c := models.County{DemoRoadTarget: s.policy.Demonstration.Target}
	if in.Code == nil || !countyRe.MatchString(*in.Code) {
		f.add("code", "应为 6 位行政区划代码，如 370303")
	} else {
		c.Code = *in.Code
	}
	c.Name = f.text("name", deref(in.Name), true, 64)
	if in.DemoRoadTarget != nil {
		c.DemoRoadTarget = *in.DemoRoadTarget
		if c.DemoRoadTarget < 0 || c.DemoRoadTarget > 1000 {
			f.add("demo_road_target", "应在 0 到 1000 之间")
		}
	}
	if err := f.err(); err != nil {
		return models.County{}, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.CreateCounty(ctx, &c); err != nil {
			return err
		}
		return s.audit(ctx, a, auditRecord{kind: AuditCountyCreate, objectType: AuditObjectCounty, objectID: c.ID,
			countyID: &c.ID, summary: countyLabel(c), after: countyFields(c)})
	})
	return c, storeErr(err, "区县代码")
}

// UpdateCounty changes a county's name or demonstration-road target (city admin).
func (s *Service) UpdateCounty(ctx context.Context, a Actor, id int64, in CountyInput) (models.County, error) {
	if !a.IsCity() {
		return models.County{}, errForbidden
	}
	f := fieldErrors{}
	cols := map[string]any{}
	if in.Code != nil {
		f.add("code", "区县代码不可修改")
	}
	if in.Name != nil {
		cols["name"] = f.text("name", *in.Name, true, 64)
	}
	if in.DemoRoadTarget != nil {
		if *in.DemoRoadTarget < 0 || *in.DemoRoadTarget > 1000 {
			f.add("demo_road_target", "应在 0 到 1000 之间")
		}
		cols["demo_road_target"] = *in.DemoRoadTarget
	}
	if err := f.err(); err != nil {
		return models.County{}, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.LockForChange(ctx, "counties", id); err != nil {
			return err
		}
		before, err := s.db.CountyByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.db.UpdateCounty(ctx, id, cols); err != nil {
			return err
		}
		after, err := s.db.CountyByID(ctx, id)
		if err != nil {
			return err
		}
		return s.auditChange(ctx, a, auditRecord{kind: AuditCountyUpdate, objectType: AuditObjectCounty, objectID: id,
			countyID: &after.ID, summary: countyLabel(after), before: countyFields(before), after: countyFields(after)})
	})
	if err != nil {
		return models.County{}, storeErr(err, "区县")
	}
	return s.County(ctx, a, id)
}

// County returns a county visible to the actor.
func (s *Service) County(ctx context.Context, a Actor, id int64) (models.County, error) {
	if !a.InCounty(id) {
		return models.County{}, errNotFound
	}
	c, err := s.db.CountyByID(ctx, id)
	return c, storeErr(err, "区县")
}

// Counties lists the counties the actor may see.
func (s *Service) Counties(ctx context.Context, a Actor) ([]models.County, error) {
	if a.Role == RoleAuditor {
		return nil, errForbidden // it sees its audits only
	}
	return s.db.ListCounties(ctx, a.countyScope())
}
