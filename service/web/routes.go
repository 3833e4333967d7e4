package web

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/clientaddr"
	"github.com/menqian/menqian/service/kept"
	"github.com/menqian/menqian/service/ratelimit"
)

// Pages holds the handlers' dependencies.
type Pages struct {
	svc     *service.Service
	log     *slog.Logger
	views   *views
	secure  bool // MENQIAN_PUBLIC_URL is https: cookies are Secure
	metrics *prometheus.HistogramVec
	plaques *plaqueCache                    // the plaque page's rules and recent anonymous pages
	kept    *kept.Cache[keptKey, keptStamp] // signed-in users' pages, reused while unchanged (pagecache.go)

	// policyFile is the MENQIAN_POLICY file the policy was read from; "": the built-in default.
	policyFile string
	timeout    time.Duration        // each request's deadline; 0: none
	clients    *clientaddr.Resolver // who the client is behind trusted proxies
}

// Options configure the pages.
type Options struct {
	Service *service.Service
	Logger  *slog.Logger
	// RequestTimeout is each request's deadline, which reaches the database:
	// past it the page is answered 503 with Retry-After. 0: none.
	RequestTimeout time.Duration
	// Clients tells the client's address behind the trusted proxies, for
	// the limits and the logs; nil: the connection's address.
	Clients  *clientaddr.Resolver
	Secure   bool                 // the public URL is https
	Registry *prometheus.Registry // page latencies are registered here
	// PolicyFile is the MENQIAN_POLICY file the service's policy was read
	// from, shown on the policy page; "": the built-in default.
	PolicyFile string
	// Limiter keeps the citizen report limits: shared through Redis when it
	// is configured; nil: this instance's memory.
	Limiter ratelimit.Limiter
}

// New returns the handler of every page.
func New(o Options) http.Handler {
	p := &Pages{svc: o.Service, log: o.Logger, secure: o.Secure, policyFile: o.PolicyFile, timeout: o.RequestTimeout, clients: o.Clients, views: newViews(o.Service.Policy())}
	p.plaques = p.newPlaqueCache(o.Service.Policy())
	p.kept = newKeptPages()
	if p.log == nil {
		p.log = slog.Default()
	}
	p.metrics = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "menqian_page_request_duration_seconds",
		Help:    "Page latency by route pattern, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "status"})
	if o.Registry != nil {
		o.Registry.MustRegister(p.metrics, p.kept.Collector(), p.plaques.pages.Collector(), p.plaques.json.Collector())
	}

	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))

	// Everyone.
	mux.HandleFunc("GET /{$}", p.home)
	mux.HandleFunc("GET /login", p.loginForm)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("POST /logout", p.signedIn(p.logout))
	mux.HandleFunc("GET /q/{token}", p.plaque)
	mux.HandleFunc("GET /v/{token}", p.verifyCertificate) // a credit certificate's QR code
	p.citizenRoutes(mux, o.Limiter)
	mux.HandleFunc("GET /photos/{id}", p.signedIn(p.photo))

	// The merchant (商户端).
	merchant := p.role(service.RoleMerchant)
	mux.HandleFunc("GET /merchant", merchant(p.keep(p.merchantHome)))
	mux.HandleFunc("GET /merchant/ledger", merchant(p.keep(p.merchantLedger)))
	mux.HandleFunc("GET /merchant/ledger/{entry}/appeal", merchant(p.keep(p.appealForm)))
	mux.HandleFunc("POST /merchant/ledger/{entry}/appeal", merchant(p.fileAppeal))
	mux.HandleFunc("GET /merchant/appeals", merchant(p.keep(p.merchantAppeals)))
	mux.HandleFunc("GET /merchant/notices", merchant(p.keep(p.merchantNotices)))
	mux.HandleFunc("POST /merchant/notices/{id}/fixed", merchant(p.reportFixed))
	mux.HandleFunc("GET /merchant/certificates", merchant(p.keep(p.merchantCertificates)))
	mux.HandleFunc("POST /merchant/certificates", merchant(p.issueCertificate))
	mux.HandleFunc("GET /merchant/certificates/{id}", merchant(p.keep(p.certificatePage)))
	mux.HandleFunc("GET /merchant/repair", merchant(p.keep(p.merchantRepair)))
	mux.HandleFunc("POST /merchant/repair", merchant(p.applyRepair))

	// The patrol officer (巡查员); county admins may patrol too.
	officer := p.role(service.RoleOfficer, service.RoleCountyAdmin)
	mux.HandleFunc("GET /officer", officer(p.keep(p.worklist)))
	mux.HandleFunc("GET /officer/roads/{id}", officer(p.keep(p.roadShops)))
	mux.HandleFunc("GET /officer/shops/{id}", officer(p.keep(p.shopFile)))
	mux.HandleFunc("GET /officer/shops/{id}/notice", officer(p.keep(p.noticeForm)))
	mux.HandleFunc("POST /officer/shops/{id}/notice", officer(p.issueNotice))
	mux.HandleFunc("POST /officer/notices/{id}/rectified", officer(p.confirmNotice))
	mux.HandleFunc("GET /inspect", officer(p.keep(p.inspectForm)))
	// The inspection form's offline queue sends here (JSON answers, the API's error format).
	mux.HandleFunc("POST /inspect/photos", officer(p.uploadPhoto))
	mux.HandleFunc("POST /inspect/records", officer(p.recordInspection))

	// The offices' console (desktop): county admins, and the city admin.
	office := p.role(service.RoleCountyAdmin, service.RoleCityAdmin)
	county := p.role(service.RoleCountyAdmin)
	city := p.role(service.RoleCityAdmin)
	_, _ = county, city
	mux.HandleFunc("GET /console", office(p.keep(p.console)))
	// console: dashboard, counties compared, counties, policy, city rankings
	mux.HandleFunc("GET /console/counties", city(p.keep(p.counties)))
	mux.HandleFunc("POST /console/counties", city(p.createCounty))
	mux.HandleFunc("GET /console/counties/{id}", city(p.keep(p.countyEdit)))
	mux.HandleFunc("POST /console/counties/{id}", city(p.updateCounty))
	mux.HandleFunc("GET /console/policy", city(p.keep(p.policyPage)))

	// console: roads, shops, officers of roads, plaques, demonstration roads
	// (the city admin opens them for a county with ?county_id=)
	mux.HandleFunc("GET /console/roads", office(p.keep(p.consoleRoads)))
	mux.HandleFunc("POST /console/roads", office(p.createRoad))
	mux.HandleFunc("GET /console/roads/{id}", office(p.keep(p.consoleRoad)))
	mux.HandleFunc("POST /console/roads/{id}", office(p.updateRoad))
	mux.HandleFunc("POST /console/roads/{id}/officers", office(p.setRoadOfficers))
	mux.HandleFunc("POST /console/roads/{id}/demonstration", office(p.setRoadDemonstration))
	mux.HandleFunc("GET /console/shops", office(p.keep(p.consoleShops)))
	mux.HandleFunc("GET /console/shops/new", office(p.keep(p.newShopForm)))
	mux.HandleFunc("POST /console/shops", office(p.createShop))
	mux.HandleFunc("GET /console/shops/{id}", office(p.keep(p.consoleShop)))
	mux.HandleFunc("POST /console/shops/{id}", office(p.updateShop))
	mux.HandleFunc("GET /console/shops/{id}/edit", office(p.keep(p.editShopForm)))
	mux.HandleFunc("POST /console/shops/{id}/reissue", office(p.reissueShopPlaque))
	mux.HandleFunc("POST /console/shops/{id}/status", office(p.setShopStatus))
	mux.HandleFunc("POST /console/certificates/{id}/revoke", office(p.revokeCertificate))
	mux.HandleFunc("GET /console/demonstration", office(p.keep(p.consoleDemonstration)))

	// console: import, rankings and bulletins, appeals, notices, accounts
	mux.HandleFunc("GET /console/import", county(p.keep(p.importForm)))
	mux.HandleFunc("POST /console/import", county(p.importDryRun))
	mux.HandleFunc("POST /console/import/commit", county(p.importCommit))
	mux.HandleFunc("GET /console/rankings", office(p.keep(p.rankings)))
	mux.HandleFunc("GET /console/bulletins", office(p.keep(p.bulletins)))
	mux.HandleFunc("GET /console/bulletins/{cycle}", office(p.keep(p.bulletin)))
	mux.HandleFunc("GET /console/fairness", office(p.fairness)) // the enforcement-fairness report (fairness.go)
	mux.HandleFunc("GET /console/appeals", county(p.keep(p.consoleAppeals)))
	mux.HandleFunc("POST /console/appeals/{id}/decision", county(p.decideAppeal))
	mux.HandleFunc("GET /console/repairs", county(p.keep(p.consoleRepairs)))
	mux.HandleFunc("POST /console/repairs/{id}/decision", county(p.decideRepair))
	mux.HandleFunc("GET /console/notices", county(p.keep(p.consoleNotices)))
	mux.HandleFunc("GET /console/accounts", county(p.keep(p.accounts)))
	mux.HandleFunc("POST /console/accounts", county(p.createAccount))
	mux.HandleFunc("POST /console/accounts/{id}/status", county(p.setAccountStatus))
	mux.HandleFunc("POST /console/accounts/{id}/password", county(p.resetPassword))

	// console: audit log
	mux.HandleFunc("GET /console/audit", office(p.keep(p.auditLog)))

	p.caseRoutes(mux, office, county, officer)

	// Random audits (抽查, spotcheck.go): the county's draws, the auditor's visits.
	mux.HandleFunc("GET /console/spotchecks", office(p.keep(p.spotChecks)))
	mux.HandleFunc("GET /console/spotchecks/new", county(p.keep(p.newSpotCheck)))
	mux.HandleFunc("POST /console/spotchecks", county(p.drawSpotCheck))
	mux.HandleFunc("GET /console/spotchecks/{id}", office(p.keep(p.spotCheck)))
	auditor := p.role(service.RoleAuditor, service.RoleCountyAdmin)
	mux.HandleFunc("GET /spotcheck", auditor(p.keep(p.auditorWork)))
	mux.HandleFunc("GET /spotcheck/{id}/shops/{merchant}", auditor(p.keep(p.spotCheckVisitForm)))
	mux.HandleFunc("POST /spotcheck/{id}/shops/{merchant}", auditor(p.recordSpotCheckVisit))
	mux.HandleFunc("/", p.notFound)
	return p.observe(mux, p.secureHeaders(p.deadline(p.withSession(p.checkCSRF(routed(mux))))))
}
