package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
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
	// The connection's address: no proxy header is trusted (Gin's ClientIP
	// would take X-Forwarded-For from anyone, and so any address).
	res, err := a.svc.LoginFrom(c.Request.Context(), a.client(c), req.Username, req.Password)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: toUser(res.User)})
}

func (a *API) rules(c *gin.Context) {
	p := a.svc.Policy()
	c.JSON(http.StatusOK, gin.H{"items": p.Items, "total": len(p.Items), "policy": gin.H{
		"base_score": p.BaseScore, "min_score": p.MinScore, "max_score": p.MaxScore, "bonus_cap": p.BonusCap,
		"star_thresholds": p.StarThresholds, "watch_below": p.WatchBelow, "serious_cap_star": p.SeriousCapStar,
		"serious_cap_cycles": p.SeriousCapCycles, "grace_days": p.GraceDays, "timezone": p.Timezone,
	}})
}
