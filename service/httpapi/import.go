package httpapi

import "github.com/gin-gonic/gin"

// importRoutes registers the routes of bulk merchant import.
func (a *API) importRoutes(g *gin.RouterGroup) {}
