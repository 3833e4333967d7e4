package httpapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route of New, kept
// true by the package's tests (openapi_test.go): each route is described,
// each described path is routed, and every answer of the tests validates
// against it. Edit it with the routes.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the description as it is embedded: public, and cacheable
// by anyone until the binary changes (its ETag is the document's hash).
func (a *API) openAPI() gin.HandlerFunc {
	sum := sha256.Sum256(openAPIDocument)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return func(c *gin.Context) {
		c.Header("ETag", etag)
		c.Header("Cache-Control", "public, max-age=3600")
		if c.GetHeader("If-None-Match") == etag {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDocument)
	}
}
