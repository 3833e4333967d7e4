package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
)

// API holds the handlers' dependencies.
type API struct {
	svc     *service.Service
	log     *slog.Logger
	metrics *metrics
	ready   func() error
}

// Options configure the HTTP interface.
type Options struct {
	Service  *service.Service
	Logger   *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	Ready    func() error         // readiness: the database answers
}

// New returns the HTTP handler with every route of menqian.
func New(o Options) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	a := &API{svc: o.Service, log: o.Logger, ready: o.Ready, metrics: newMetrics(o.Registry)}
	if a.log == nil {
		a.log = slog.Default()
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(a.recover, a.requestID, a.observe)
	r.NoRoute(func(c *gin.Context) { a.fail(c, service.Errorf(service.CodeNotFound, "接口不存在")) })
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "不支持该请求方法", RequestID: requestID(c)}})
	})

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", a.metricsHandler(o.Registry))
	r.GET("/q/:token", a.scanLanding)
	r.GET("/inspect", a.inspectPage)

	v1 := r.Group("/api/v1")
	v1.POST("/auth/login", a.login)

	auth := v1.Group("", a.authenticate)
	auth.GET("/me", a.me)
	auth.POST("/users", a.createUser)
	auth.GET("/users", a.listUsers)
	auth.PATCH("/users/:id", a.updateUser)
	auth.GET("/rules", a.rules)

	auth.POST("/counties", a.createCounty)
	auth.GET("/counties", a.listCounties)
	auth.GET("/counties/:id", a.getCounty)
	auth.PATCH("/counties/:id", a.updateCounty)

	auth.POST("/roads", a.createRoad)
	auth.GET("/roads", a.listRoads)
	auth.GET("/roads/:id", a.getRoad)
	auth.PATCH("/roads/:id", a.updateRoad)

	auth.POST("/merchants", a.createMerchant)
	auth.GET("/merchants", a.listMerchants)
	auth.GET("/merchants/:id", a.getMerchant)
	auth.PATCH("/merchants/:id", a.updateMerchant)
	auth.GET("/merchants/:id/inspections", a.listInspections)
	auth.GET("/merchants/:id/ledger", a.ledger)
	auth.POST("/merchants/:id/ledger/:entry/reversal", a.reverseEntry)
	auth.GET("/merchants/:id/qrcode.png", a.qrcodePNG)
	auth.POST("/merchants/:id/qrcode/reissue", a.reissueQRCode)

	auth.POST("/photos", a.uploadPhoto)
	auth.GET("/photos/:id", a.getPhoto)
	auth.POST("/inspections", a.createInspection)

	a.plaqueRoutes(auth)
	a.rankingRoutes(auth)
	a.demonstrationRoutes(auth)
	a.importRoutes(auth)
	a.appealRoutes(auth)
	a.noticeRoutes(auth)
	return r
}
