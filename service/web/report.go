package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/ratelimit"
)

// Cookies of the citizen's pages.
const (
	reportCSRFCookie = "menqian_report_csrf" // the report and reopen forms' double-submit token
	deviceCookie     = "menqian_device"      // a random id of the phone, for the per-device limit
	deviceCookieAge  = 2 * 365 * 24 * time.Hour
	reportCSRFAge    = 24 * time.Hour
)

// Limits of citizen reports: shared by every instance through Redis when it
// is configured, else kept in each instance's memory (behind a load balancer
// of n instances a client may then get up to n times as many). A refused
// report stores nothing.
var (
	reportsPerClient = ratelimit.Limit{Name: "report-client", N: 10, Window: time.Hour}    // per client address
	reportsPerDevice = ratelimit.Limit{Name: "report-device", N: 5, Window: time.Hour}     // per device cookie
	reportsPerShop   = ratelimit.Limit{Name: "report-shop", N: 30, Window: 24 * time.Hour} // per shop
)

// maxLimitKeys is how many keys each limit remembers in memory; past it,
// full buckets go first.
const maxLimitKeys = 20000

// citizenPages are the pages of the public: reporting a problem with a shop
// from its plaque (随手拍), and following the report by its receipt.
type citizenPages struct {
	p      *Pages
	now    func() time.Time
	limits ratelimit.Limiter
}

// citizenRoutes lists the citizen's pages (no login); limits keeps the
// report limits (nil: this instance's memory).
func (p *Pages) citizenRoutes(mux *http.ServeMux, limits ratelimit.Limiter) {
	if limits == nil {
		limits = ratelimit.NewMemory(maxLimitKeys)
	}
	c := &citizenPages{p: p, now: time.Now, limits: limits}
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

// clientOf is the client's address: the connection's, or behind a trusted
// proxy the address it forwarded (MENQIAN_TRUSTED_PROXIES).
func (p *Pages) clientOf(r *http.Request) string { return p.clients.Of(r) }

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
	data["MaxPhotoMB"] = service.MaxPhotoBytes >> 20
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
	client := c.p.clientOf(r)
	now := c.now()
	wait, err := c.limits.Take(r.Context(), now, reportsPerClient.Key(client), reportsPerDevice.Key(device), reportsPerShop.Key(prof.Code))
	if err != nil {
		c.p.fail(w, r, err)
		return
	}
	if wait > 0 {
		c.tooMany(w, r, now, wait)
		return
	}
	in := service.CaseReportInput{Token: token, RuleCode: formValue(r, "rule_code"), Note: formValue(r, "note"),
		Phone: formValue(r, "phone"), Client: client, Device: device}
	photos, done, err := formPhotos(r, "photo")
	defer done()
	switch {
	case err == nil && len(photos) > 1:
		err = service.Invalid(map[string]string{"photo": "只能附一张照片"})
	case err == nil && len(photos) == 1:
		in.Photo = photos[0]
	}
	var res service.CaseReceipt
	if err == nil {
		res, err = c.p.svc.ReportCase(r.Context(), in)
	}
	if err != nil {
		var e *service.Error
		if code := service.ErrorCode(err); (code == service.CodeInvalid || code == service.CodeTooLarge) && errors.As(err, &e) {
			problems := fieldNames(e.Fields)
			if code == service.CodeTooLarge {
				problems = map[string]string{fieldLabel("photo"): e.Message + "，请重新选择"}
			}
			c.showForm(w, r, service.HTTPStatus(code), prof, view{"Problems": problems, "Rule": in.RuleCode, "Note": in.Note, "Phone": in.Phone})
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
