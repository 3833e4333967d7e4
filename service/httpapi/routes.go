package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/clientaddr"
	"github.com/menqian/menqian/service/kept"
)

// API holds the handlers' dependencies.
type API struct {
	svc     *service.Service
	log     *slog.Logger
	metrics *metrics
	ready   func() error
	kept    *kept.Cache[keptKey, keptStamp] // GET answers reused while unchanged (kept.go)
	timeout time.Duration                   // each request's deadline; 0: none
	clients *clientaddr.Resolver            // who the client is behind trusted proxies
}

// Options configure the HTTP interface.
type Options struct {
	Service  *service.Service
	Logger   *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	Ready    func() error         // readiness: the database answers
	// RequestTimeout is each request's deadline, which reaches the database:
	// past it the request is answered 503 with Retry-After. 0: none.
	RequestTimeout time.Duration
	// Clients tells the client's address behind the trusted proxies, for
	// the login limit and the logs; nil: the connection's address.
	Clients *clientaddr.Resolver
}

// New returns the HTTP handler. Every route of menqian is registered here
// and nowhere else, so this function is the table of the API.
func New(o Options) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	a := &API{svc: o.Service, log: o.Logger, ready: o.Ready, metrics: newMetrics(o.Registry), kept: newKept(), timeout: o.RequestTimeout, clients: o.Clients}
	if o.Registry != nil {
		o.Registry.MustRegister(a.kept.Collector())
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(a.recover, a.requestID, a.observe, a.deadline)
	r.NoRoute(func(c *gin.Context) { a.fail(c, service.Errorf(service.CodeNotFound, "接口不存在")) })
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "不支持该请求方法", RequestID: requestID(c)}})
	})

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", a.metricsHandler(o.Registry))

	v1 := r.Group("/api/v1")
	v1.POST("/auth/login", a.login)
	// Public: a credit certificate's verification (certificate.go).
	v1.GET("/certificates/:token", a.verifyCertificate)
	v1.GET("/openapi.json", a.openAPI()) // this API's OpenAPI 3.1 description (openapi.go)

	auth := v1.Group("", a.authenticate)
	// Accounts and the scoring rules.
	auth.GET("/me", a.me)
	auth.POST("/users", a.createUser)
	auth.GET("/users", a.listUsers)
	auth.PATCH("/users/:id", a.updateUser)
	auth.GET("/rules", a.rules)

	// a.keep reuses a GET answer of the lists while nothing it shows changed (kept.go).

	// Counties.
	auth.POST("/counties", a.createCounty)
	auth.GET("/counties", a.keep, a.listCounties)
	auth.GET("/counties/:id", a.keep, a.getCounty)
	auth.PATCH("/counties/:id", a.updateCounty)

	// Roads.
	auth.POST("/roads", a.createRoad)
	auth.GET("/roads", a.keep, a.listRoads)
	auth.GET("/roads/:id", a.keep, a.getRoad)
	auth.PATCH("/roads/:id", a.updateRoad)

	// Merchants, their history and their QR codes.
	auth.POST("/merchants", a.createMerchant)
	auth.GET("/merchants", a.keep, a.listMerchants)
	auth.GET("/merchants/:id", a.keep, a.getMerchant)
	auth.PATCH("/merchants/:id", a.updateMerchant)
	auth.GET("/merchants/:id/inspections", a.keep, a.listInspections)
	auth.GET("/merchants/:id/ledger", a.keep, a.ledger)
	auth.POST("/merchants/:id/ledger/:entry/reversal", a.reverseEntry)
	auth.GET("/merchants/:id/qrcode.png", a.qrcodePNG)
	auth.POST("/merchants/:id/qrcode/reissue", a.reissueQRCode)
	auth.POST("/merchants/:id/certificates", a.issueCertificate)
	auth.GET("/merchants/:id/certificates", a.listCertificates)

	// Photos and inspections.
	auth.POST("/photos", a.uploadPhoto)
	auth.GET("/photos/:id", a.getPhoto)
	auth.POST("/inspections", a.createInspection)

	// Printable plaque sheets and ZIPs.
	auth.GET("/roads/:id/plaques", a.roadPlaques)
	auth.GET("/counties/:id/plaques", a.countyPlaques)

	// Leaderboards and ranks.
	auth.GET("/leaderboards/merchants", a.merchantBoard)
	auth.GET("/leaderboards/roads", a.roadBoard)
	auth.GET("/leaderboards/counties", a.countyBoard)
	auth.GET("/merchants/:id/rank", a.merchantRank)

	// Demonstration roads and bulletins.
	auth.PUT("/roads/:id/demonstration", a.setDemonstration)
	auth.GET("/counties/:id/demonstration", a.keep, a.demonstration)
	auth.GET("/counties/:id/bulletins/:cycle", a.keep, a.bulletin)
	auth.GET("/counties/:id/fairness", a.fairness) // the enforcement-fairness report (fairness.go)

	// Bulk merchant import.
	auth.POST("/merchants/import", a.importMerchants)
	auth.GET("/merchants/import/template", a.importTemplate)

	// Merchants' appeals (申诉).
	auth.POST("/merchants/:id/ledger/:entry/appeal", a.fileAppeal)
	auth.GET("/appeals", a.keep, a.listAppeals)
	auth.POST("/appeals/:id/decision", a.decideAppeal)

	// Credit repair (信用修复, repair.go): the merchant applies, the county admin decides.
	auth.GET("/merchants/:id/repair", a.repairStatus)
	auth.POST("/merchants/:id/repairs", a.applyRepair)
	auth.GET("/repairs", a.listRepairs)
	auth.POST("/repairs/:id/decision", a.decideRepair)

	// Rectification notices (限期整改通知).
	auth.POST("/merchants/:id/notices", a.issueNotice)
	auth.GET("/merchants/:id/notices", a.keep, a.listNotices)
	auth.GET("/notices", a.keep, a.noticeWorklist)
	auth.POST("/notices/:id/rectified", a.rectifyNotice)

	// Random audits (抽查, spotcheck.go).
	auth.POST("/spotchecks", a.drawSpotCheck)
	auth.GET("/spotchecks", a.listSpotChecks)
	auth.GET("/spotchecks/:id", a.getSpotCheck)
	auth.POST("/spotchecks/:id/shops/:merchant", a.recordSpotCheck)
	auth.GET("/counties/:id/spotcheck-agreement", a.spotCheckAgreement)

	// Open311 GeoReport v2 (open311.go), and the city admin's api keys for it.
	auth.GET("/open311/keys", a.listOpen311Keys)
	auth.POST("/open311/keys", a.issueOpen311Key)
	auth.POST("/open311/keys/:id/revoke", a.revokeOpen311Key)
	a.open311Routes(r)
	return r
}
