package httpapi

import "github.com/gin-gonic/gin"

// rankingRoutes registers the routes of leaderboards and ranks.
func (a *API) rankingRoutes(g *gin.RouterGroup) {}
