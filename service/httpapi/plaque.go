package httpapi

import "github.com/gin-gonic/gin"

// plaqueRoutes registers the routes of printable plaque sheets and ZIPs.
func (a *API) plaqueRoutes(g *gin.RouterGroup) {}
