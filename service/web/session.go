package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/service"
)

// homeOf is where each role starts.
func homeOf(role string) string {
	switch role {
	case service.RoleMerchant:
		return "/merchant"
	case service.RoleOfficer:
		return "/officer"
	case service.RoleAuditor:
		return "/spotcheck"
	case service.RoleCountyAdmin, service.RoleCityAdmin:
		return "/console"
	}
	return "/login"
}

// home sends a signed-in browser to its role's home, anyone else to the login form.
func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	if s := sessionOf(r); s != nil {
		http.Redirect(w, r, homeOf(s.Actor.Role), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login destination on this site: a local path, never
// "//host" or a scheme, and no control characters (browsers drop tabs from a
// Location, and Go's client cannot parse one that has them).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return next
}

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if s := sessionOf(r); s != nil {
		// Signed in already (in another tab, say): go where the link meant to.
		if next == "" || !allowedFor(s.Actor.Role, next) {
			next = homeOf(s.Actor.Role)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p.showLogin(w, r, http.StatusOK, "", "", next)
}

// showLogin renders the form with a fresh double-submit token.
func (p *Pages) showLogin(w http.ResponseWriter, r *http.Request, status int, username, problem, next string) {
	b := make([]byte, 24)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	p.setCookie(w, loginCSRFCookie, token, time.Hour)
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, status, "login.html", view{"LoginCSRF": token, "Username": username, "Problem": problem, "Next": next})
}

// login checks the form with the service's login (its rate limit and
// messages) and starts a session.
func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	next := safeNext(r.PostFormValue("next"))
	s, err := p.svc.StartSessionFrom(r.Context(), p.clientOf(r), username, r.PostFormValue("password"))
	if err != nil {
		var msg string
		switch service.ErrorCode(err) {
		case service.CodeInvalid:
			msg = "请输入用户名和密码"
		case service.CodeUnauthorized, service.CodeRateLimited, service.CodeUnavailable:
			msg = err.(*service.Error).Message
			if e := err.(*service.Error); e.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
		default:
			p.fail(w, r, err)
			return
		}
		p.showLogin(w, r, service.HTTPStatus(service.ErrorCode(err)), username, msg, next)
		return
	}
	p.clearCookie(w, loginCSRFCookie)
	p.setCookie(w, sessionCookie, s.ID, service.TokenTTL)
	if next == "" || !allowedFor(s.Actor.Role, next) {
		next = homeOf(s.Actor.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// allowedFor: after login, go back only to a page of the role's own area.
func allowedFor(role, next string) bool {
	switch {
	case strings.HasPrefix(next, "/merchant"):
		return role == service.RoleMerchant
	case strings.HasPrefix(next, "/officer"), strings.HasPrefix(next, "/inspect"):
		return role == service.RoleOfficer || role == service.RoleCountyAdmin
	case strings.HasPrefix(next, "/console"):
		return role == service.RoleCountyAdmin || role == service.RoleCityAdmin
	case strings.HasPrefix(next, "/spotcheck"):
		return role == service.RoleAuditor || role == service.RoleCountyAdmin
	}
	return strings.HasPrefix(next, "/q/")
}

// logout ends the session on every instance and forgets the cookie.
func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.svc.EndSession(r.Context(), sessionOf(r).ID); err != nil {
		p.fail(w, r, err)
		return
	}
	p.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/login?bye=1", http.StatusSeeOther)
}

func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, service.Errorf(service.CodeNotFound, "页面不存在"))
}
