package httpapi

import (
	"encoding/xml"
	"errors"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/menqian/menqian/service"
)

// Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): services
// (the reportable catalogue items), service requests (the citizens' cases,
// as the public may see them) and tokens. Every resource answers in JSON or
// XML by its extension, and errors come in the spec's format: a list of
// {code, description}. Reading needs no login; filing a request needs an
// api_key the city admin issued (POST /api/v1/open311/keys).

// open311Routes registers the GeoReport v2 resources under /open311/v2.
func (a *API) open311Routes(r *gin.Engine) {
	g := r.Group("/open311/v2")
	g.GET("/services.json", a.open311Services)
	g.GET("/services.xml", a.open311Services)
	g.GET("/services/:file", a.open311Definition)
	g.GET("/requests.json", a.open311Requests)
	g.GET("/requests.xml", a.open311Requests)
	g.POST("/requests.json", a.open311Post)
	g.POST("/requests.xml", a.open311Post)
	g.GET("/requests/:file", a.open311Request)
	g.GET("/tokens/:file", a.open311Token)
}

type o311Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	Code        string   `json:"service_code" xml:"service_code"`
	Name        string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type o311Attribute struct {
	XMLName             xml.Name `json:"-" xml:"attribute"`
	Variable            bool     `json:"variable" xml:"variable"`
	Code                string   `json:"code" xml:"code"`
	Datatype            string   `json:"datatype" xml:"datatype"`
	Required            bool     `json:"required" xml:"required"`
	DatatypeDescription string   `json:"datatype_description" xml:"datatype_description"`
	Order               int      `json:"order" xml:"order"`
	Description         string   `json:"description" xml:"description"`
}

type o311Definition struct {
	XMLName    xml.Name        `json:"-" xml:"service_definition"`
	Code       string          `json:"service_code" xml:"service_code"`
	Attributes []o311Attribute `json:"attributes" xml:"attributes>attribute"`
}

type o311Request struct {
	XMLName     xml.Name `json:"-" xml:"request"`
	ID          string   `json:"service_request_id" xml:"service_request_id"`
	Status      string   `json:"status" xml:"status"`
	StatusNotes string   `json:"status_notes" xml:"status_notes"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	Description *string  `json:"description" xml:"description"` // never the reporter's words: always empty
	Agency      string   `json:"agency_responsible" xml:"agency_responsible"`
	Requested   string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated     string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected    *string  `json:"expected_datetime" xml:"expected_datetime"`
	Address     string   `json:"address" xml:"address"`
	Lat         *float64 `json:"lat" xml:"lat"`
	Long        *float64 `json:"long" xml:"long"`
	MediaURL    *string  `json:"media_url" xml:"media_url"`
}

type o311Token struct {
	XMLName xml.Name `json:"-" xml:"request"`
	ID      string   `json:"service_request_id" xml:"service_request_id"`
	Token   string   `json:"token" xml:"token"`
}

type o311Error struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

// merchantCodeAttribute is the attribute a request names its shop by: the
// code printed on the plaque.
var merchantCodeAttribute = o311Attribute{Variable: true, Code: "merchant_code", Datatype: "string",
	DatatypeDescription: "8 位商户编码（门牌上印的编码）", Order: 1, Description: "商户编码；不填时按位置（lat/long）找 50 米内最近的商户"}

// open311Format is the format of a resource named file (name.json or
// name.xml) and its name; ok false for another extension.
func open311Format(file string) (name, format string, ok bool) {
	for _, f := range []string{"json", "xml"} {
		if n, found := strings.CutSuffix(file, "."+f); found && n != "" {
			return n, f, true
		}
	}
	return "", "", false
}

// open311Write writes v (a slice, or one resource) as JSON or XML; the XML
// root of a list is root.
func open311Write(c *gin.Context, status int, format, root string, v any) {
	if format == "xml" {
		body, err := xml.Marshal(v)
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		out := []byte(xml.Header)
		if root != "" {
			out = append(append(append(out, "<"+root+">"...), body...), "</"+root+">"...)
		} else {
			out = append(out, body...)
		}
		c.Data(status, "application/xml; charset=utf-8", out)
		return
	}
	c.JSON(status, v)
}

// open311Fail answers in the spec's error format.
func open311Fail(c *gin.Context, format string, status int, description string) {
	if format == "" {
		format = "json"
	}
	open311Write(c, status, format, "errors", []o311Error{{Code: status, Description: description}})
}

func formatOf(c *gin.Context) string {
	if strings.HasSuffix(c.Request.URL.Path, ".xml") {
		return "xml"
	}
	return "json"
}

func (a *API) o311Services() []o311Service {
	var out []o311Service
	for _, s := range a.svc.Open311Services() {
		out = append(out, o311Service{Code: s.Code, Name: s.Name, Description: s.Description, Metadata: true, Type: "realtime",
			Keywords: s.Group + "," + s.Name, Group: s.Group})
	}
	return out
}

func (a *API) open311Services(c *gin.Context) {
	open311Write(c, http.StatusOK, formatOf(c), "services", a.o311Services())
}

func (a *API) open311Definition(c *gin.Context) {
	code, format, ok := open311Format(c.Param("file"))
	if !ok {
		open311Fail(c, "json", http.StatusNotFound, "unknown format: use .json or .xml")
		return
	}
	if _, ok := a.svc.Open311Service(code); !ok {
		open311Fail(c, format, http.StatusNotFound, "unknown service_code "+code)
		return
	}
	open311Write(c, http.StatusOK, format, "", o311Definition{Code: code, Attributes: []o311Attribute{merchantCodeAttribute}})
}

// open311Time writes a time in W3C form in the service's timezone.
func (a *API) open311Time(t time.Time) string {
	return t.In(a.svc.Policy().Location()).Format(time.RFC3339)
}

func (a *API) o311Requests(rs []service.Open311Request) []o311Request {
	out := make([]o311Request, len(rs))
	for i, r := range rs {
		out[i] = o311Request{ID: r.ID, Status: r.Status, StatusNotes: r.StatusNotes, ServiceName: r.ServiceName,
			ServiceCode: r.ServiceCode, Agency: r.Agency, Requested: a.open311Time(r.RequestedAt),
			Updated: a.open311Time(r.UpdatedAt), Address: r.Address, Lat: r.Lat, Long: r.Long}
		if r.ExpectedAt != nil {
			e := a.open311Time(*r.ExpectedAt)
			out[i].Expected = &e
		}
	}
	return out
}

// splitList reads a comma-separated parameter (nil when absent).
func splitList(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (a *API) open311Requests(c *gin.Context) {
	format := formatOf(c)
	q := service.Open311Query{IDs: splitList(c.Query("service_request_id")), ServiceCodes: splitList(c.Query("service_code")),
		Status: c.Query("status")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"start_date", &q.Start}, {"end_date", &q.End}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				open311Fail(c, format, http.StatusBadRequest, p.name+" must be a W3C datetime, e.g. 2026-12-01T00:00:00+08:00")
				return
			}
			*p.dst = t
		}
	}
	rs, err := a.svc.Open311Requests(c.Request.Context(), q)
	if err != nil {
		a.open311Error(c, format, err)
		return
	}
	open311Write(c, http.StatusOK, format, "service_requests", a.o311Requests(rs))
}

func (a *API) open311Request(c *gin.Context) {
	if r, format, ok := a.open311One(c); ok {
		open311Write(c, http.StatusOK, format, "service_requests", a.o311Requests([]service.Open311Request{r}))
	}
}

// open311Token: a request's token is its id (requests are made at once).
func (a *API) open311Token(c *gin.Context) {
	if r, format, ok := a.open311One(c); ok {
		open311Write(c, http.StatusOK, format, "service_requests", []o311Token{{ID: r.ID, Token: r.ID}})
	}
}

// open311One reads the request named by the path's file ({id}.json or
// .xml); it has answered with the spec's error when ok is false.
func (a *API) open311One(c *gin.Context) (r service.Open311Request, format string, ok bool) {
	id, format, ok := open311Format(c.Param("file"))
	if !ok {
		open311Fail(c, "json", http.StatusNotFound, "unknown format: use .json or .xml")
		return r, "", false
	}
	rs, err := a.svc.Open311Requests(c.Request.Context(), service.Open311Query{IDs: []string{id}})
	if err != nil {
		a.open311Error(c, format, err)
		return r, "", false
	}
	if len(rs) == 0 {
		open311Fail(c, format, http.StatusNotFound, "no service request "+id)
		return r, "", false
	}
	return rs[0], format, true
}

type o311Filed struct {
	XMLName   xml.Name `json:"-" xml:"request"`
	ID        string   `json:"service_request_id" xml:"service_request_id"`
	Notice    string   `json:"service_notice" xml:"service_notice"`
	AccountID *string  `json:"account_id" xml:"account_id"`
}

// maxOpen311Form bounds a request's form.
const maxOpen311Form = 16 << 10

// open311Post files a service request (a form, as the spec says): a case
// like a plaque report, answered with its id (the receipt).
func (a *API) open311Post(c *gin.Context) {
	format := formatOf(c)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxOpen311Form)
	if err := c.Request.ParseForm(); err != nil {
		open311Fail(c, format, http.StatusBadRequest, "the request must be a form of at most 16 KiB")
		return
	}
	form := c.Request.PostForm
	in := service.Open311ReportInput{APIKey: form.Get("api_key"), ServiceCode: form.Get("service_code"),
		MerchantCode: form.Get("attribute[merchant_code]"), Jurisdiction: form.Get("jurisdiction_id"),
		Description: form.Get("description"), Phone: form.Get("phone"), Client: a.client(c)}
	for _, p := range []struct {
		name string
		dst  **float64
	}{{"lat", &in.Lat}, {"long", &in.Long}} {
		if v := form.Get(p.name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				open311Fail(c, format, http.StatusBadRequest, p.name+" must be a number of degrees")
				return
			}
			*p.dst = &f
		}
	}
	r, err := a.svc.Open311Report(c.Request.Context(), in)
	if err != nil {
		a.open311Error(c, format, err)
		return
	}
	notice := "已受理，区县城管部门将按时限派人核查处理。"
	if r.Joined {
		notice = "已有人反映该问题，您的反映已并入同一案件。"
	}
	open311Write(c, http.StatusCreated, format, "service_requests", []o311Filed{{ID: r.Receipt, Notice: notice}})
}

// open311Error answers a service error in the spec's format.
func (a *API) open311Error(c *gin.Context, format string, err error) {
	var e *service.Error
	if !errors.As(err, &e) {
		a.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "route", c.FullPath(), "err", err)
		open311Fail(c, format, http.StatusInternalServerError, "internal error")
		return
	}
	msg := e.Message
	if len(e.Fields) > 0 {
		var msgs []string
		for _, m := range e.Fields {
			msgs = append(msgs, m)
		}
		sort.Strings(msgs)
		msg = strings.Join(msgs, "; ")
	}
	status := service.HTTPStatus(e.Code)
	if e.Code == service.CodeUnauthorized {
		status = http.StatusForbidden // the spec's answer to a bad api_key
	}
	open311Fail(c, format, status, msg)
}
