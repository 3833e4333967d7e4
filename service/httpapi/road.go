package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type roadRequest struct {
	CountyID   *int64   `json:"county_id"`
	Name       *string  `json:"name"`
	Town       *string  `json:"town"`
	LengthM    *int     `json:"length_m"`
	OfficerIDs *[]int64 `json:"officer_ids"`
}

func (r roadRequest) input() service.RoadInput {
	return service.RoadInput{CountyID: r.CountyID, Name: r.Name, Town: r.Town, LengthM: r.LengthM, OfficerIDs: r.OfficerIDs}
}

type roadResponse struct {
	ID            int64      `json:"id"`
	CountyID      int64      `json:"county_id"`
	Name          string     `json:"name"`
	Town          string     `json:"town"`
	LengthM       *int       `json:"length_m"`
	Demonstration string     `json:"demonstration"`
	DemoChangedAt *time.Time `json:"demonstration_changed_at,omitempty"`
	OfficerIDs    []int64    `json:"officer_ids"`
}

func toRoad(r service.RoadView) roadResponse {
	off := r.OfficerIDs
	if off == nil {
		off = []int64{}
	}
	return roadResponse{ID: r.ID, CountyID: r.CountyID, Name: r.Name, Town: r.Town, LengthM: r.LengthM,
		Demonstration: r.DemoStatus, DemoChangedAt: r.DemoChangedAt, OfficerIDs: off}
}

func (a *API) createRoad(c *gin.Context) {
	var req roadRequest
	if !a.bind(c, &req) {
		return
	}
	r, err := a.svc.CreateRoad(c.Request.Context(), actor(c), req.input())
	respond(a, c, http.StatusCreated, toRoad(r), err)
}

func (a *API) updateRoad(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req roadRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	r, err := a.svc.UpdateRoad(c.Request.Context(), actor(c), id, req.input())
	respond(a, c, http.StatusOK, toRoad(r), err)
}

func (a *API) getRoad(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	r, err := a.svc.Road(c.Request.Context(), actor(c), id)
	respond(a, c, http.StatusOK, toRoad(r), err)
}

func (a *API) listRoads(c *gin.Context) {
	f := map[string]string{}
	county := queryInt(c, "county_id", f)
	p := paging(c, f)
	if !a.checkQuery(c, f) {
		return
	}
	roads, total, err := a.svc.Roads(c.Request.Context(), actor(c), county, p)
	out := make([]roadResponse, len(roads))
	for i, r := range roads {
		out[i] = toRoad(r)
	}
	respond(a, c, http.StatusOK, list[roadResponse]{Items: out, Total: total, Limit: p.Limit, Offset: p.Offset}, err)
}
