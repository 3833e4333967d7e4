package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

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
