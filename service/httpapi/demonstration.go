package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

type demonstrationRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (a *API) setDemonstration(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req demonstrationRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	r, err := a.svc.SetDemonstration(c.Request.Context(), actor(c), id, req.Status, req.Note)
	respond(a, c, http.StatusOK, toRoad(r), err)
}

type demoRoad struct {
	RoadID    int64               `json:"road_id"`
	Name      string              `json:"name"`
	Status    string              `json:"status"`
	Qualified bool                `json:"qualified"`
	Failing   []string            `json:"failing"`
	Score     float64             `json:"score"`
	Metrics   service.RoadMetrics `json:"metrics"`
}

type demonstrationResponse struct {
	CountyID   int64      `json:"county_id"`
	Cycle      string     `json:"cycle"`
	Target     int        `json:"target"`
	Designated int        `json:"designated"`
	Accepted   int        `json:"accepted"`
	Qualified  int        `json:"qualified"`
	Roads      []demoRoad `json:"roads"`
}

func (a *API) demonstration(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	d, err := a.svc.Demonstration(c.Request.Context(), actor(c), id)
	roads := make([]demoRoad, len(d.Roads))
	for i, r := range d.Roads {
		roads[i] = demoRoad{RoadID: r.RoadID, Name: r.Name, Status: r.DemoStatus, Qualified: r.Qualified, Failing: r.Failing,
			Score: float64(r.ScoreCents) / 100, Metrics: r.Metrics}
	}
	respond(a, c, http.StatusOK, demonstrationResponse{CountyID: d.County.ID, Cycle: d.Cycle, Target: d.Target,
		Designated: d.Designated, Accepted: d.Accepted, Qualified: d.Qualified, Roads: roads}, err)
}

type countyBoardItem struct {
	Rank      int     `json:"rank"`
	CountyID  int64   `json:"county_id"`
	Code      string  `json:"code"`
	Name      string  `json:"name"`
	Qualified int     `json:"qualified"`
	Target    int     `json:"target"`
	Score     float64 `json:"score"`
	Merchants int     `json:"merchants"`
}

func (a *API) countyBoard(c *gin.Context) {
	rows, err := a.svc.CountyBoard(c.Request.Context(), actor(c))
	out := make([]countyBoardItem, len(rows))
	for i, r := range rows {
		out[i] = countyBoardItem{Rank: r.Rank, CountyID: r.County.ID, Code: r.County.Code, Name: r.County.Name,
			Qualified: r.Qualified, Target: r.Target, Score: r.Score, Merchants: r.Merchants}
	}
	respond(a, c, http.StatusOK, gin.H{"items": out, "total": len(out), "cycle": a.svc.CurrentCycle()}, err)
}
