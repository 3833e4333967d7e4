package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

// rankingRoutes registers the routes of leaderboards and ranks.
func (a *API) rankingRoutes(g *gin.RouterGroup) {
	g.GET("/leaderboards/merchants", a.merchantBoard)
	g.GET("/leaderboards/roads", a.roadBoard)
	g.GET("/leaderboards/counties", a.countyBoard)
	g.GET("/merchants/:id/rank", a.merchantRank)
}

type boardItem struct {
	Rank       int    `json:"rank"`
	MerchantID int64  `json:"merchant_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Score      int    `json:"score"`
	RatedStar  int    `json:"rated_star"`
}

type boardResponse struct {
	Items  []boardItem `json:"items"`
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	Cycle  string      `json:"cycle"`
}

func (a *API) merchantBoard(c *gin.Context) {
	f := map[string]string{}
	q := service.BoardQuery{Scope: c.DefaultQuery("scope", "county"), ID: queryInt(c, "id", f), Cycle: c.Query("cycle"), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	items, total, err := a.svc.MerchantBoard(c.Request.Context(), actor(c), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]boardItem, len(items))
	for i, it := range items {
		out[i] = boardItem{Rank: it.Rank, MerchantID: it.MerchantID, Code: it.Code, Name: it.Name, Score: it.Score, RatedStar: it.RatedStar}
	}
	limit := q.Limit
	if limit == 0 {
		limit = 20
	}
	c.JSON(http.StatusOK, boardResponse{Items: out, Total: total, Limit: limit, Offset: q.Offset, Cycle: cycleOr(q.Cycle, a.svc.CurrentCycle())})
}

type position struct {
	Rank int `json:"rank"`
	Of   int `json:"of"`
}

type rankResponse struct {
	MerchantID int64    `json:"merchant_id"`
	Cycle      string   `json:"cycle"`
	Score      int      `json:"score"`
	Road       position `json:"road"`
	County     position `json:"county"`
	City       position `json:"city"`
}

func (a *API) merchantRank(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	r, err := a.svc.MerchantRanks(c.Request.Context(), actor(c), id)
	respond(a, c, http.StatusOK, rankResponse{MerchantID: id, Cycle: r.Cycle, Score: r.Score,
		Road: position(r.Road), County: position(r.County), City: position(r.City)}, err)
}

type roadBoardItem struct {
	Rank          int     `json:"rank"`
	RoadID        int64   `json:"road_id"`
	Name          string  `json:"name"`
	Score         float64 `json:"score"`
	Merchants     int     `json:"merchants"`
	Demonstration string  `json:"demonstration"`
}

func (a *API) roadBoard(c *gin.Context) {
	f := map[string]string{}
	county := queryInt(c, "county_id", f)
	if !a.checkQuery(c, f) {
		return
	}
	roads, err := a.svc.RoadBoard(c.Request.Context(), actor(c), county, c.Query("cycle"))
	out := make([]roadBoardItem, len(roads))
	for i, r := range roads {
		out[i] = roadBoardItem{Rank: r.Rank, RoadID: r.RoadID, Name: r.Name, Score: r.Score, Merchants: r.Merchants, Demonstration: r.DemoStatus}
	}
	respond(a, c, http.StatusOK, gin.H{"items": out, "total": len(out), "cycle": cycleOr(c.Query("cycle"), a.svc.CurrentCycle())}, err)
}

func cycleOr(asked, current string) string {
	if asked != "" {
		return asked
	}
	return current
}
