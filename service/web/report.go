package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// Cookies of the citizen's pages.
const (
	reportCSRFCookie = "menqian_report_csrf" // the report and reopen forms' double-submit token
	deviceCookie     = "menqian_device"      // a random id of the phone, for the per-device limit
	deviceCookieAge  = 2 * 365 * 24 * time.Hour
	reportCSRFAge    = 24 * time.Hour
)

// Limits of citizen reports. They are kept in memory by each instance of
// the service (per instance, not shared): behind a load balancer of n
// instances a client may get up to n times as many. A refused report stores
// nothing.
const (
	reportsPerClient       = 10 // per client address an hour
	reportsPerClientWindow = time.Hour
	reportsPerDevice       = 5 // per device cookie an hour
	reportsPerDeviceWindow = time.Hour
	reportsPerShop         = 30 // per shop a day
	reportsPerShopWindow   = 24 * time.Hour
	maxLimitKeys           = 20000 // keys each limit remembers; past it, full buckets go first
)

// citizenPages are the pages of the public: reporting a problem with a shop
// from its plaque (随手拍), and following the report by its receipt.
type citizenPages struct {
	p                     *Pages
	now                   func() time.Time
	client, device, shops *rateLimit
}

// citizenRoutes lists the citizen's pages (no login).
func (p *Pages) citizenRoutes(mux *http.ServeMux) {
	c := &citizenPages{p: p, now: time.Now,
		client: newRateLimit(reportsPerClient, reportsPerClientWindow, maxLimitKeys),
		device: newRateLimit(reportsPerDevice, reportsPerDeviceWindow, maxLimitKeys),
		shops:  newRateLimit(reportsPerShop, reportsPerShopWindow, maxLimitKeys)}
	mux.HandleFunc("GET /q/{token}/report", c.reportForm)
	mux.HandleFunc("POST /q/{token}/report", c.report)
	mux.HandleFunc("GET /r/{receipt}", c.receipt)
	mux.HandleFunc("POST /r/{receipt}/reopen", c.reopen)
}

// formToken returns the visitor's double-submit token, setting the cookie
// when there is none yet (one token for every open form of the visitor).
func (c *citizenPages) formToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(reportCSRFCookie); err == nil && len(ck.Value) >= 16 {
		return ck.Value
	}
	token := randomToken()
	c.p.setCookie(w, reportCSRFCookie, token, reportCSRFAge)
	return token
}

// checkForm: a signed-in visitor's form was checked by checkCSRF against the
// session; an anonymous one must carry the double-submit cookie's token.
func (c *citizenPages) checkForm(r *http.Request) bool {
	if sessionOf(r) != nil {
		return true
	}
	ck, err := r.Cookie(reportCSRFCookie)
	return err == nil && len(ck.Value) >= 16 && formValue(r, csrfField) == ck.Value
}

// deviceOf returns the device cookie's value, setting a new one when there is none.
func (c *citizenPages) deviceOf(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(deviceCookie); err == nil && len(ck.Value) >= 16 && len(ck.Value) <= 64 {
		return ck.Value
	}
	d := randomToken()
	c.p.setCookie(w, deviceCookie, d, deviceCookieAge)
	return d
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientOf is the client's address (the connection's; no proxy header is trusted).
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// reportForm is what the citizen fills in on the phone.
func (c *citizenPages) reportForm(w http.ResponseWriter, r *http.Request) {
	prof, err := c.p.svc.ProfileByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		c.plaqueGone(w, r, err)
		return
	}
	c.deviceOf(w, r)
	c.showForm(w, r, http.StatusOK, prof, view{})
}

// plaqueGone answers a report on a plaque that does not resolve as its page does.
func (c *citizenPages) plaqueGone(w http.ResponseWriter, r *http.Request, err error) {
	if service.ErrorCode(err) != service.CodeNotFound {
		c.p.fail(w, r, err)
		return
	}
	c.p.render(w, r, http.StatusNotFound, "plaque_gone.html", view{"Replaced": errors.Is(err, service.ErrPlaqueReplaced)})
}

func (c *citizenPages) showForm(w http.ResponseWriter, r *http.Request, status int, prof service.PublicProfile, data view) {
	w.Header().Set("Cache-Control", "private, no-store")
	data["P"] = prof
	data["Token"] = r.PathValue("token")
	data["FormCSRF"] = c.formToken(w, r)
	data["Groups"] = catalogueGroups(c.p.svc.Policy(), false)
	data["Other"] = models.CaseOther
	data["MaxNote"] = service.MaxCaseNote
	c.p.render(w, r, status, "report.html", data)
}

// report takes the form: checks its token, the limits, then the service.
func (c *citizenPages) report(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(r) {
		c.p.refuseCSRF(w, r)
		return
	}
	token := r.PathValue("token")
	prof, err := c.p.svc.ProfileByToken(r.Context(), token)
	if err != nil {
		c.plaqueGone(w, r, err)
		return
	}
	device := c.deviceOf(w, r)
	client := clientOf(r)
	now := c.now()
	if wait, ok := takeAll(now, c.client.key(client), c.device.key(device), c.shops.key(prof.Code)); !ok {
		c.tooMany(w, r, now, wait)
		return
	}
	in := service.CaseReportInput{Token: token, RuleCode: formValue(r, "rule_code"), Note: formValue(r, "note"),
		Phone: formValue(r, "phone"), Client: client, Device: device}
	res, err := c.p.svc.ReportCase(r.Context(), in)
	if err != nil {
		if service.ErrorCode(err) == service.CodeInvalid {
			e := err.(*service.Error)
			c.showForm(w, r, http.StatusBadRequest, prof, view{"Problems": fieldNames(e.Fields), "Rule": in.RuleCode, "Note": in.Note, "Phone": in.Phone})
			return
		}
		c.plaqueGone(w, r, err)
		return
	}
	to := "/r/" + res.Receipt
	if res.Joined {
		to += "?joined=1"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// tooMany answers a refused report: 429, when to try again.
func (c *citizenPages) tooMany(w http.ResponseWriter, r *http.Request, now time.Time, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	at := now.Add(time.Duration(secs) * time.Second).In(c.p.svc.Policy().Location())
	msg := fmt.Sprintf("提交次数过多，请在%s以后再试（约 %d 分钟后）。", at.Format("1月2日 15:04"), (secs+59)/60)
	c.p.fail(w, r, &service.Error{Code: service.CodeRateLimited, Message: msg, RetryAfter: secs})
}

// caseStepNames name the public steps of a case.
var caseStepNames = map[string]string{"report": "受理", "accept": "立案", "dismiss": "不予立案", "dispatch": "派遣",
	"handle": "处置", "return": "回退", "extend": "延期", "verify": "核查", "close": "结案", "reopen": "回访：问题未解决，重新办理"}

// receipt is the public follow-up page of a report: states and dates, never
// who reported or handled it.
func (c *citizenPages) receipt(w http.ResponseWriter, r *http.Request) {
	v, err := c.p.svc.PublicCase(r.Context(), r.PathValue("receipt"))
	if err != nil {
		c.p.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	data := view{"C": v, "StatusName": service.CaseStatusName(v.Status), "Actions": caseStepNames,
		"Joined": r.URL.Query().Get("joined") == "1", "Reopened": r.URL.Query().Get("reopened") == "1"}
	if v.OnTime != nil {
		data["OnTime"] = map[bool]string{true: "（按期办结）", false: "（超期办结）"}[*v.OnTime]
	}
	if v.CanReopen {
		data["ReopenDays"] = c.p.svc.Policy().CaseReopenDays
		data["FormCSRF"] = c.formToken(w, r)
	}
	c.p.render(w, r, http.StatusOK, "receipt.html", data)
}

// reopen is the reporter's "问题没有解决" on a closed case.
func (c *citizenPages) reopen(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(r) {
		c.p.refuseCSRF(w, r)
		return
	}
	v, err := c.p.svc.ReopenCase(r.Context(), r.PathValue("receipt"))
	if err != nil {
		c.p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/r/"+v.Receipt+"?reopened=1", http.StatusSeeOther)
}

// rateLimit is a token bucket per key: limit reports, refilled evenly over
// window. It remembers at most maxKeys keys.
type rateLimit struct {
	mu      sync.Mutex
	limit   float64
	per     time.Duration // one report back every per
	maxKeys int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimit(limit int, window time.Duration, maxKeys int) *rateLimit {
	return &rateLimit{limit: float64(limit), per: window / time.Duration(limit), maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

// limitKey is one key of one limit.
type limitKey struct {
	l   *rateLimit
	key string
}

func (l *rateLimit) key(k string) limitKey { return limitKey{l, k} }

// level is the bucket's tokens at now (locked).
func (l *rateLimit) level(k string, now time.Time) float64 {
	b, ok := l.buckets[k]
	if !ok {
		return l.limit
	}
	return math.Min(l.limit, b.tokens+float64(now.Sub(b.at))/float64(l.per))
}

// set stores the bucket's tokens at now, making room when the map is full:
// first the buckets that refilled (as good as absent), then any.
func (l *rateLimit) set(k string, tokens float64, now time.Time) {
	if _, ok := l.buckets[k]; !ok && len(l.buckets) >= l.maxKeys {
		for key := range l.buckets {
			if l.level(key, now) >= l.limit {
				delete(l.buckets, key)
			}
		}
		for key := range l.buckets {
			if len(l.buckets) < l.maxKeys {
				break
			}
			delete(l.buckets, key)
		}
	}
	l.buckets[k] = &bucket{tokens: tokens, at: now}
}

// takeAll takes one report from each key's bucket when every one has one;
// else it takes none and returns how long until all of them have.
func takeAll(now time.Time, keys ...limitKey) (time.Duration, bool) {
	for _, k := range keys {
		k.l.mu.Lock()
		defer k.l.mu.Unlock()
	}
	var wait time.Duration
	for _, k := range keys {
		if lv := k.l.level(k.key, now); lv < 1 {
			wait = max(wait, time.Duration((1-lv)*float64(k.l.per)))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, k := range keys {
		k.l.set(k.key, k.l.level(k.key, now)-1, now)
	}
	return 0, true
}
