package httpapi

import (
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
	m, err := a.svc.PlaqueMerchant(c, actor(c), id)
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
	m, err := a.svc.ReissuePlaque(c, actor(c), id)
	respond(a, c, http.StatusOK, reissueResponse{MerchantID: m.ID, Code: m.Code, Generation: m.QRGeneration,
		Token: a.svc.PlaqueToken(m), URL: a.svc.PlaqueURL(m)}, err)
}

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

// scanLanding is the page a plaque's QR code opens: HTML for phones, the
// public JSON profile for Accept: application/json.
func (a *API) scanLanding(c *gin.Context) {
	wantJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	p, err := a.svc.ProfileByToken(c, c.Param("token"))
	if err != nil {
		if wantJSON || service.ErrorCode(err) != service.CodeNotFound {
			a.fail(c, err)
			return
		}
		c.Status(http.StatusNotFound)
		c.Header("Content-Type", "text/html; charset=utf-8")
		pages.ExecuteTemplate(c.Writer, "notfound.html", gin.H{"Replaced": errors.Is(err, service.ErrPlaqueReplaced)})
		return
	}
	prof := publicProfile{Code: p.Merchant.Code, Name: p.Merchant.Name, Road: p.Road.Name, County: p.County.Name,
		Category: p.Merchant.Category, Star: p.Score.Star, RatedStar: p.Score.RatedStar, Score: p.Score.Score, Cycle: p.Score.Cycle}
	c.Header("Cache-Control", "no-cache")
	if wantJSON {
		c.JSON(http.StatusOK, prof)
		return
	}
	act, loggedIn := a.optionalActor(c)
	canInspect := loggedIn && act.InCounty(p.Merchant.CountyID) && (act.Role == service.RoleOfficer || act.Role == service.RoleCountyAdmin)
	pol := a.svc.Policy()
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	pages.ExecuteTemplate(c.Writer, "landing.html", gin.H{
		"P": prof, "Score": p.Score, "Items": pol.Items, "Categories": pol.Categories(), "Token": c.Param("token"),
		"CanInspect": canInspect, "Phone": service.MaskPhone(p.Merchant.Phone), "Watch": p.Score.UnderWatch,
	})
}

// inspectPage is the officer's phone page: scan or type a plaque, pick items, send.
func (a *API) inspectPage(c *gin.Context) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	pages.ExecuteTemplate(c.Writer, "inspect.html", gin.H{"Token": c.Query("t"), "Items": a.svc.Policy().Items})
}
