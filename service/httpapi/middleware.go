package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/reqid"
)

const (
	ctxRequestID = "menqian.request_id"
	ctxActor     = "menqian.actor"
	ctxErrorCode = "menqian.error_code" // the code fail answered with, for the security log
)

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// requestID takes a sane incoming X-Request-ID or makes one, and echoes it.
func (a *API) requestID(c *gin.Context) {
	id := reqid.From(c.GetHeader(reqid.Header))
	c.Set(ctxRequestID, id)
	c.Header(reqid.Header, id)
	c.Next()
}

// deadline gives the request its deadline, which reaches the database
// through the context; fail answers 503 with Retry-After once it passed.
func (a *API) deadline(c *gin.Context) {
	if a.timeout <= 0 {
		c.Next()
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), a.timeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// recover answers a panic with the generic 500 and logs it once.
func (a *API) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.log.Error("panic", "request_id", requestID(c), "route", c.FullPath(), "panic", r)
			a.fail(c, service.Errorf(service.CodeInternal, "服务器内部错误，请稍后重试"))
		}
	}()
	c.Next()
}

type metrics struct {
	duration  *prometheus.HistogramVec
	observers sync.Map // observerKey → prometheus.Observer, saving the label lookup per request
}

type observerKey struct {
	route, method string
	status        int
}

// observer returns the latency histogram of a route, method and status.
func (m *metrics) observer(route, method string, status int) prometheus.Observer {
	k := observerKey{route, method, status}
	if o, ok := m.observers.Load(k); ok {
		return o.(prometheus.Observer)
	}
	o := m.duration.WithLabelValues(route, method, strconv.Itoa(status))
	m.observers.Store(k, o)
	return o
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "menqian_http_request_duration_seconds",
		Help:    "HTTP request latency by route template, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "status"})}
	if reg != nil {
		reg.MustRegister(m.duration)
	}
	return m
}

// observe logs each request and records its latency by route template (never
// the raw path, so ids and tokens do not explode the label set).
func (a *API) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	method := c.Request.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER" // clients choose methods: keep the label set bounded
	}
	a.metrics.observer(route, method, status).Observe(time.Since(start).Seconds())
	if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests {
		// The security log: who was refused what (never a password or a token).
		a.log.InfoContext(c, "request refused", "request_id", requestID(c), "status", status, "code", c.GetString(ctxErrorCode),
			"method", method, "route", route, "client", a.client(c), "user_id", actor(c).UserID)
	}
	if (status >= 500 || route != "/healthz" && route != "/metrics") && a.log.Enabled(c, slog.LevelDebug) {
		a.log.Debug("request", "request_id", requestID(c), "method", c.Request.Method, "route", route,
			"status", status, "ms", time.Since(start).Milliseconds())
	}
}

func (a *API) metricsHandler(reg *prometheus.Registry) gin.HandlerFunc {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// sessionCookie is the pages' sign-in cookie (package web sets it).
const sessionCookie = "menqian_session"

// authenticate requires a valid bearer token and puts its actor in the context.
// For GET and HEAD the pages' session cookie also counts, so a county admin
// signed in to the pages can open a plaque sheet straight in the browser;
// writes need the header, which a cross-site form cannot send. Whatever a
// token or a cookie opened is personal: never stored by a cache (a handler may
// allow a private cache for what never changes, such as a photo), and
// varying by both credentials.
func (a *API) authenticate(c *gin.Context) {
	var act service.Actor
	var err error
	c.Header("Vary", "Authorization, Cookie")
	c.Header("Cache-Control", "private, no-store")
	if tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer "); ok && tok != "" {
		act, err = a.svc.Authenticate(tok)
		if err == nil {
			err = a.svc.CheckActive(c.Request.Context(), act)
		}
	} else if ck, cerr := c.Cookie(sessionCookie); cerr == nil && ck != "" && c.GetHeader("Authorization") == "" &&
		(c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		var s service.WebSession
		s, err = a.svc.Session(c.Request.Context(), ck)
		act = s.Actor
	} else {
		err = service.Errorf(service.CodeUnauthorized, "请先登录")
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Set(ctxActor, act)
	c.Next()
}

// client is the request's client address: the connection's, or behind a
// trusted proxy the address it forwarded (never Gin's ClientIP, which
// believes an X-Forwarded-For from anyone).
func (a *API) client(c *gin.Context) string { return a.clients.Of(c.Request) }

func actor(c *gin.Context) service.Actor {
	v, _ := c.Get(ctxActor)
	act, _ := v.(service.Actor)
	return act
}

func (a *API) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (a *API) readyz(c *gin.Context) {
	if a.ready != nil {
		if err := a.ready(); err != nil {
			a.log.Warn("not ready", "err", err)
			if service.ErrorCode(err) != service.CodeUnavailable {
				err = service.Errorf(service.CodeUnavailable, "数据库不可用")
			}
			a.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
