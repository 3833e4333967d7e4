package httpapi

import "github.com/gin-gonic/gin"

// demonstrationRoutes registers the routes of demonstration roads and bulletins.
func (a *API) demonstrationRoutes(g *gin.RouterGroup) {}
