package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"stars": func(n int) string { return strings.Repeat("★", n) + strings.Repeat("☆", 5-n) },
}).ParseFS(templateFS, "templates/*.html"))

func (a *API) qrcodePNG(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	size := qrcodes.DefaultSize
	if v := c.Query("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < qrcodes.MinSize || n > qrcodes.MaxSize {
			a.fail(c, service.Invalid(map[string]string{"size": "应在 128 到 2048 像素之间"}))
			return
		}
		size = n
	}
	m, err := a.svc.PlaqueMerchant(c.Request.Context(), actor(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	sum := sha256.Sum256([]byte(a.svc.PlaqueURL(m) + "|" + strconv.Itoa(size)))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, max-age=3600")
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	png, err := a.svc.PlaquePNG(m, size)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}

type reissueResponse struct {
	MerchantID int64  `json:"merchant_id"`
	Code       string `json:"code"`
	Generation int    `json:"generation"`
	Token      string `json:"token"`
	URL        string `json:"url"`
}

func (a *API) reissueQRCode(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	m, err := a.svc.ReissuePlaque(c.Request.Context(), actor(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, reissueResponse{MerchantID: m.ID, Code: m.Code, Generation: m.QRGeneration,
		Token: a.svc.PlaqueToken(m), URL: a.svc.PlaqueURL(m)})
}

// publicProfile is the public JSON of a plaque: the contract fields and a
// few more that are on the shop front anyway (county, category). Nothing
// private: no owner, phone, USCC, address, photos or ids.
type publicProfile struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Road      string `json:"road"`
	County    string `json:"county"`
	Category  string `json:"category"`
	Star      int    `json:"star"`
	RatedStar int    `json:"rated_star"`
	Score     int    `json:"score"`
	Cycle     string `json:"cycle"`
}

func newPublicProfile(p service.PublicProfile) publicProfile {
	return publicProfile{Code: p.Code, Name: p.Name, Road: p.Road, County: p.County, Category: p.Category,
		Star: p.Score.Star, RatedStar: p.Score.RatedStar, Score: p.Score.Score, Cycle: p.Score.Cycle}
}

// scanLanding is the page a plaque's QR code opens: HTML for phones, the
// public JSON profile for Accept: application/json. A forged, unknown or
// closed plaque is 404; a replaced one is 404 too, and its page says so
// without naming the shop.
func (a *API) scanLanding(c *gin.Context) {
	wantJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	// The answer depends on Accept, and the page on who is logged in.
	c.Header("Vary", "Accept, Authorization, Cookie")
	p, err := a.svc.ProfileByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		if wantJSON || service.ErrorCode(err) != service.CodeNotFound {
			a.fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-cache")
		a.html(c, http.StatusNotFound, "notfound.html", gin.H{"Replaced": errors.Is(err, service.ErrPlaqueReplaced)})
		return
	}
	c.Header("Cache-Control", "no-cache")
	if wantJSON {
		c.JSON(http.StatusOK, newPublicProfile(p))
		return
	}
	act, loggedIn := a.optionalActor(c)
	canInspect := loggedIn && act.InCounty(p.CountyID) && (act.Role == service.RoleOfficer || act.Role == service.RoleCountyAdmin)
	a.html(c, http.StatusOK, "landing.html", gin.H{
		"P": newPublicProfile(p), "Score": p.Score, "Policy": a.svc.Policy(), "Items": a.svc.Policy().Items, "Duties": a.svc.Duties(),
		"Token": c.Param("token"), "CanInspect": canInspect, "Phone": p.Phone, "Watch": p.Score.UnderWatch,
	})
}

// html renders a page into memory first, so a template error is an honest
// 500 instead of half a page.
func (a *API) html(c *gin.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		a.fail(c, err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// inspectPage is the officer's phone page: scan or type a plaque, pick items, send.
func (a *API) inspectPage(c *gin.Context) {
	a.html(c, http.StatusOK, "inspect.html", gin.H{"Token": c.Query("t"), "Items": a.svc.Policy().Items})
}
