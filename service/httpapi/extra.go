package httpapi

import "github.com/gin-gonic/gin"

// extraRoutes registers the rankings, demonstration and bulletin routes.
func (a *API) extraRoutes(g *gin.RouterGroup) {}
