package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/qrcodes"
	"github.com/menqian/menqian/service"
)

//go:embed templates/plaques.html
var templateFS embed.FS

// sheetTemplate is the A4 print sheet of plaques, the one page the API
// renders (the people's pages are package web).
var sheetTemplate = template.Must(template.ParseFS(templateFS, "templates/plaques.html"))

// qrcodePNG answers a merchant's current plaque as a PNG of ?size= pixels.
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

// reissueQRCode gives a merchant a new plaque; the old one stops resolving.
func (a *API) reissueQRCode(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok || !a.noBody(c) {
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

func (a *API) roadPlaques(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	set, err := a.svc.RoadPlaques(c.Request.Context(), actor(c), id)
	a.plaques(c, set, err)
}

func (a *API) countyPlaques(c *gin.Context) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return
	}
	set, err := a.svc.CountyPlaques(c.Request.Context(), actor(c), id)
	a.plaques(c, set, err)
}

// plaques answers ?format=html (default: the A4 print sheet) or ?format=zip.
func (a *API) plaques(c *gin.Context, set service.PlaqueSet, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	switch f := c.DefaultQuery("format", "html"); f {
	case "html":
		a.plaqueSheet(c, set)
	case "zip":
		a.plaqueZip(c, set)
	default:
		a.fail(c, service.Invalid(map[string]string{"format": "应为 html 或 zip"}))
	}
}

// plaqueZip streams the ZIP of PNGs. Each entry extends the write deadline,
// so a county of thousands of plaques is not cut off by the server's
// WriteTimeout while a stalled client still is.
func (a *API) plaqueZip(c *gin.Context, set service.PlaqueSet) {
	f := map[string]string{}
	size := qrcodes.DefaultSize
	if c.Query("size") != "" {
		size = int(queryInt(c, "size", f))
	}
	if !a.checkQuery(c, f) {
		return
	}
	name := "plaques-" + set.County.Code
	if set.Road != nil {
		name += "-road" + strconv.FormatInt(set.Road.ID, 10)
	}
	rc := http.NewResponseController(c.Writer)
	headers := func() {
		c.Header("Content-Type", "application/zip")
		c.Header("Content-Disposition", `attachment; filename="`+name+`.zip"`)
		c.Header("Cache-Control", "no-store")
		c.Header("X-Plaque-Count", strconv.FormatInt(set.Total, 10))
	}
	n, err := a.svc.WritePlaqueZip(c.Request.Context(), set, lazyHeaders{c: c, before: headers}, size, func(int) {
		rc.SetWriteDeadline(time.Now().Add(time.Minute))
	})
	if err == nil {
		return
	}
	if !c.Writer.Written() {
		a.fail(c, err)
		return
	}
	// Mid-stream: the status is gone. Log once and cut the connection, so the
	// client sees a failed download rather than a short archive (usually the
	// client went away).
	a.log.WarnContext(c.Request.Context(), "plaque zip aborted", "request_id", requestID(c), "county", set.County.Code, "written", n, "err", err)
	panic(http.ErrAbortHandler)
}

// lazyHeaders sets the ZIP headers just before the first byte, so an error
// before any output is still answered with the JSON error contract.
type lazyHeaders struct {
	c      *gin.Context
	before func()
}

func (w lazyHeaders) Write(p []byte) (int, error) {
	if !w.c.Writer.Written() {
		w.before()
	}
	return w.c.Writer.Write(p)
}

// sheetPlaque is one plaque of the print template.
type sheetPlaque struct {
	Code, Name, Road string
	// Src is the img src attribute with the PNG inlined as a data: URI, so
	// the sheet prints without fetching images (which would need auth). An
	// attribute rather than a URL, so html/template does not entity-escape
	// every '+' of the base64.
	Src template.HTMLAttr
}

// plaquesPerPage is the A4 grid of plaques.html: 3 columns × 4 rows.
const plaquesPerPage = 12

// plaqueSheet renders an A4 print sheet of at most service.MaxSheetPlaques
// plaques from ?offset=, with links to the neighbouring sheets.
func (a *API) plaqueSheet(c *gin.Context, set service.PlaqueSet) {
	f := map[string]string{}
	offset := int(queryInt(c, "offset", f))
	limit := service.MaxSheetPlaques
	if c.Query("limit") != "" {
		limit = int(queryInt(c, "limit", f))
	}
	if !a.checkQuery(c, f) {
		return
	}
	ps, err := a.svc.PlaqueSheet(c.Request.Context(), set, offset, limit, qrcodes.DefaultSize)
	if err != nil {
		a.fail(c, err)
		return
	}
	var sheets [][]sheetPlaque
	for i, p := range ps {
		if i%plaquesPerPage == 0 {
			sheets = append(sheets, make([]sheetPlaque, 0, plaquesPerPage))
		}
		sheets[len(sheets)-1] = append(sheets[len(sheets)-1], sheetPlaque{Code: p.Code, Name: p.Name, Road: p.Road,
			Src: template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(p.PNG) + `"`)})
	}
	title := set.County.Name
	if set.Road != nil {
		title += " · " + set.Road.Name
	}
	link := func(off int) string {
		return fmt.Sprintf("?format=html&offset=%d&limit=%d", off, limit)
	}
	data := gin.H{"Title": title, "Pages": sheets, "Duties": a.svc.Duties(), "Total": set.Total,
		"From": offset + 1, "To": offset + len(ps)}
	if offset > 0 {
		data["Prev"] = link(max(0, offset-limit))
	}
	if int64(offset+len(ps)) < set.Total {
		data["Next"] = link(offset + len(ps))
	}
	// Rendered into memory first, so a template error is an honest 500
	// instead of half a page.
	var buf bytes.Buffer
	if err := sheetTemplate.ExecuteTemplate(&buf, "plaques.html", data); err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}
