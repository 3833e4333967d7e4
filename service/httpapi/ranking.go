package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/leaderboard"
)

func (a *API) merchantBoard(c *gin.Context) {
	f := map[string]string{}
	q := service.BoardQuery{Scope: c.DefaultQuery("scope", "county"), ID: queryInt(c, "id", f), Cycle: c.Query("cycle"), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	ctx, stale := service.WatchStale(c.Request.Context())
	page, err := a.svc.MerchantBoard(ctx, actor(c), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	warnIfStale(c, stale)
	c.Data(http.StatusOK, "application/json; charset=utf-8", page.Encoded(encodeBoard))
}

// warnIfStale says, when a ranking was answered from the views of before a
// database outage (service.WatchStale), that it may be out of date: the
// Warning header of RFC 7234 ("110 Response is Stale"), as caches say it.
func warnIfStale(c *gin.Context, stale *atomic.Bool) {
	if stale.Load() {
		c.Header("Warning", `110 menqian "Response is Stale"`)
	}
}

// encodeBoard is the one encoding of leaderboard pages, the busiest read:
// readers of an unchanged page share it (BoardPage.Encoded).
func encodeBoard(p service.BoardPage) []byte {
	return appendBoard(make([]byte, 0, 256+128*len(p.Items)), p)
}

// appendBoard writes a page as
// {"items":[{"rank","merchant_id","code","name","score","rated_star"}],"total","limit","offset","cycle"},
// byte for byte what encoding/json writes for it, without reflection.
func appendBoard(b []byte, p service.BoardPage) []byte {
	b = append(b, `{"items":[`...)
	for i, it := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rank":`...)
		b = strconv.AppendInt(b, int64(it.Rank), 10)
		b = append(b, `,"merchant_id":`...)
		b = strconv.AppendInt(b, it.MerchantID, 10)
		b = append(b, `,"code":`...)
		b = appendJSONString(b, it.Code)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, it.Name)
		b = append(b, `,"score":`...)
		b = strconv.AppendInt(b, int64(it.Score), 10)
		b = append(b, `,"rated_star":`...)
		b = strconv.AppendInt(b, int64(it.RatedStar), 10)
		b = append(b, '}')
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, int64(p.Total), 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(p.Limit), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(p.Offset), 10)
	b = append(b, `,"cycle":`...)
	b = appendJSONString(b, p.Cycle)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string the way encoding/json does:
// strings that need no escape are copied, any other goes through json.Marshal
// (quotes, control characters, <, > and &, U+2028 and U+2029, invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&':
			return appendMarshalled(b, s)
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
			return appendMarshalled(b, s)
		}
	}
	if !utf8.ValidString(s) {
		return appendMarshalled(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshalled(b []byte, s string) []byte {
	j, _ := json.Marshal(s) // a string always marshals
	return append(b, j...)
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
	ctx, stale := service.WatchStale(c.Request.Context())
	r, err := a.svc.MerchantRanks(ctx, actor(c), id)
	warnIfStale(c, stale)
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
	ctx, stale := service.WatchStale(c.Request.Context())
	body, err := a.svc.RoadBoardEncoded(ctx, actor(c), county, c.Query("cycle"), encodeRoadBoard)
	if err != nil {
		a.fail(c, err)
		return
	}
	warnIfStale(c, stale)
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// encodeRoadBoard is the one encoding of a county's road ranking: readers of
// an unchanged county share it (Service.RoadBoardEncoded).
func encodeRoadBoard(roads []leaderboard.RoadEntry, cycle string) []byte {
	out := make([]roadBoardItem, len(roads))
	for i, r := range roads {
		out[i] = roadBoardItem{Rank: r.Rank, RoadID: r.RoadID, Name: r.Name, Score: r.Score, Merchants: r.Merchants, Demonstration: r.DemoStatus}
	}
	b, _ := json.Marshal(gin.H{"items": out, "total": len(out), "cycle": cycle}) // plain values: cannot fail
	return b
}
