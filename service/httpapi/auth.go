package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type userResponse struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	Role        string `json:"role"`
	CountyID    *int64 `json:"county_id"`
	MerchantID  *int64 `json:"merchant_id"`
	DisplayName string `json:"display_name,omitempty"`
	Disabled    bool   `json:"disabled"`
}

func toUser(u models.User) userResponse {
	return userResponse{ID: u.ID, Username: u.Username, Role: u.Role, CountyID: u.CountyID, MerchantID: u.MerchantID, DisplayName: u.DisplayName, Disabled: u.Disabled}
}

type loginResponse struct {
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expires_at"`
	User      userResponse `json:"user"`
}

func (a *API) login(c *gin.Context) {
	var req loginRequest
	if !a.bind(c, &req) {
		return
	}
	res, err := a.svc.Login(c.Request.Context(), req.Username, req.Password)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: toUser(res.User)})
}

func (a *API) me(c *gin.Context) {
	u, err := a.svc.Me(c.Request.Context(), actor(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toUser(u))
}

type userRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	Role        string `json:"role"`
	CountyID    *int64 `json:"county_id"`
	MerchantID  *int64 `json:"merchant_id"`
	DisplayName string `json:"display_name"`
}

func (a *API) createUser(c *gin.Context) {
	var req userRequest
	if !a.bind(c, &req) {
		return
	}
	u, err := a.svc.CreateUser(c.Request.Context(), actor(c), service.UserInput{Username: req.Username, Password: req.Password, Role: req.Role,
		CountyID: req.CountyID, MerchantID: req.MerchantID, DisplayName: req.DisplayName})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toUser(u))
}

func (a *API) rules(c *gin.Context) {
	p := a.svc.Policy()
	c.JSON(http.StatusOK, gin.H{"items": p.Items, "total": len(p.Items), "policy": gin.H{
		"base_score": p.BaseScore, "min_score": p.MinScore, "max_score": p.MaxScore, "bonus_cap": p.BonusCap,
		"star_thresholds": p.StarThresholds, "watch_below": p.WatchBelow, "serious_cap_star": p.SeriousCapStar,
		"serious_cap_cycles": p.SeriousCapCycles, "grace_days": p.GraceDays, "timezone": p.Timezone,
	}})
}

func (a *API) listUsers(c *gin.Context) {
	f := map[string]string{}
	q := service.UserQuery{CountyID: queryInt(c, "county_id", f), Role: c.Query("role"), Paging: paging(c, f)}
	if !a.checkQuery(c, f) {
		return
	}
	us, total, err := a.svc.Users(c.Request.Context(), actor(c), q)
	out := make([]userResponse, len(us))
	for i, u := range us {
		out[i] = toUser(u)
	}
	respond(a, c, http.StatusOK, list[userResponse]{Items: out, Total: total, Limit: max(q.Limit, 20), Offset: q.Offset}, err)
}

type userChangeRequest struct {
	Disabled    *bool   `json:"disabled"`
	Password    *string `json:"password"`
	DisplayName *string `json:"display_name"`
}

func (a *API) updateUser(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	var req userChangeRequest
	if !ok || !a.bind(c, &req) {
		return
	}
	u, err := a.svc.UpdateUser(c.Request.Context(), actor(c), id, service.UserChange{Disabled: req.Disabled, Password: req.Password, DisplayName: req.DisplayName})
	respond(a, c, http.StatusOK, toUser(u), err)
}
