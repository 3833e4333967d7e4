package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/reqid"
)

// Cookies of the pages.
const (
	sessionCookie    = "menqian_session"    // the session id (HttpOnly)
	loginCSRFCookie  = "menqian_login_csrf" // the login form's double-submit token
	csrfField        = "csrf"               // the form field carrying the CSRF token
	csrfHeader       = "X-CSRF-Token"       // the same for the inspection form's fetches
	maxFormBodyBytes = 16 << 20             // a form with up to three photos
)

type ctxKey int

const (
	ctxNonce ctxKey = iota
	ctxSession
	ctxRequestID
	ctxSeen // the request's *seen, which the inner handlers fill in for observe
)

// seen is what observe learns from the handlers inside it, which see the
// request only as copies (each middleware adds to its context).
type seen struct {
	session *service.WebSession // withSession: who is signed in
	pattern string              // routed: the mux's pattern
}

// seenOf is the request's seen, or a throwaway one outside observe.
func seenOf(r *http.Request) *seen {
	if s, ok := r.Context().Value(ctxSeen).(*seen); ok {
		return s
	}
	return &seen{}
}

// routed tells observe the pattern the mux chose.
func routed(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		seenOf(r).pattern = r.Pattern
	})
}

// requestIDOf is the request's id (observe sets it), for the logs.
func requestIDOf(r *http.Request) string { s, _ := r.Context().Value(ctxRequestID).(string); return s }

func nonceOf(r *http.Request) string { s, _ := r.Context().Value(ctxNonce).(string); return s }

// sessionOf returns the signed-in session, nil when there is none.
func sessionOf(r *http.Request) *service.WebSession {
	s, _ := r.Context().Value(ctxSession).(*service.WebSession)
	return s
}

// actorOf is the caller of a page behind signedIn.
func actorOf(r *http.Request) service.Actor {
	if s := sessionOf(r); s != nil {
		return s.Actor
	}
	return service.Actor{}
}

// statusWriter remembers the status for the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// observe names each request (X-Request-ID), records each page's latency by
// its route pattern (never the raw path, so ids and tokens do not explode the
// label set) and logs every refusal: 401, 403 (a CSRF refusal among them) and
// 429, with the client's address and who was signed in, never a password or
// a token.
func (p *Pages) observe(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := reqid.From(r.Header.Get(reqid.Header))
		w.Header().Set(reqid.Header, id)
		r = r.WithContext(context.WithValue(r.Context(), ctxRequestID, id))
		sw := &statusWriter{ResponseWriter: w}
		var saw seen
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxSeen, &saw)))
		route := saw.pattern
		if route == "" {
			_, route = mux.Handler(r) // refused before routing (a CSRF refusal)
		}
		if route == "" {
			route = "unmatched"
		}
		method := r.Method
		if method != http.MethodGet && method != http.MethodPost && method != http.MethodHead {
			method = "OTHER"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		p.metrics.WithLabelValues(route, method, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
		if sw.status == http.StatusUnauthorized || sw.status == http.StatusForbidden || sw.status == http.StatusTooManyRequests {
			var user int64
			if saw.session != nil {
				user = saw.session.Actor.UserID
			}
			p.log.InfoContext(r.Context(), "page refused", "request_id", id, "status", sw.status, "method", r.Method,
				"route", route, "client", p.clientOf(r), "user_id", user)
		}
	})
}

// secureHeaders sends the headers every page carries: a Content-Security-
// Policy whose scripts need this response's nonce, no sniffing, no framing,
// and referrers only to ourselves (a plaque token never leaks to another site).
func (p *Pages) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 16)
		rand.Read(b)
		nonce := base64.RawStdEncoding.EncodeToString(b)
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'self'; img-src 'self' blob: data:; "+
			"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxNonce, nonce)))
	})
}

// deadline gives the request its deadline, which reaches the database
// through the context; fail answers 503 with Retry-After once it passed.
func (p *Pages) deadline(next http.Handler) http.Handler {
	if p.timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withSession puts the signed-in session, if any, in the context. Whatever
// comes back to a browser with a session cookie is personal: never cached,
// and varying by the cookie.
func (p *Pages) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Cookie")
		w.Header().Set("Cache-Control", "private, no-store")
		s, err := p.svc.Session(r.Context(), ck.Value)
		if err != nil {
			if service.ErrorCode(err) != service.CodeUnauthorized {
				p.fail(w, r, err)
				return
			}
			p.clearCookie(w, sessionCookie) // ended, expired, disabled or reset: forget it
			next.ServeHTTP(w, r)
			return
		}
		seenOf(r).session = &s
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxSession, &s)))
	})
}

// checkCSRF refuses a state-changing request that does not carry the
// session's CSRF token (the login form: its double-submit cookie), or that
// comes from another origin. Nothing has been read or changed when it refuses.
func (p *Pages) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBodyBytes)
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				p.refuseCSRF(w, r)
				return
			}
		}
		token := r.Header.Get(csrfHeader)
		if token == "" {
			if err := parseForm(r); errors.As(err, new(*http.MaxBytesError)) {
				p.fail(w, r, service.Errorf(service.CodeTooLarge, "提交的内容过大（最多 %d MB），请减少或压缩文件后重试", maxFormBodyBytes>>20))
				return
			}
			token = formValue(r, csrfField)
		}
		if r.URL.Path == "/login" {
			ck, err := r.Cookie(loginCSRFCookie)
			if err != nil || len(ck.Value) < 16 || token != ck.Value {
				p.refuseCSRF(w, r)
				return
			}
		} else if s := sessionOf(r); s != nil && !p.svc.CheckCSRF(s.ID, token) {
			p.refuseCSRF(w, r)
			return
		}
		// Without a session, the handler's guard answers 401.
		next.ServeHTTP(w, r)
	})
}

// formValue reads a field of a urlencoded or multipart form (files beyond a
// megabyte go to temporary files).
func formValue(r *http.Request, name string) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if r.MultipartForm == nil && parseForm(r) != nil {
			return ""
		}
		if v := r.MultipartForm.Value[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return r.PostFormValue(name)
}

// parseForm reads the request's form once (multipart or urlencoded).
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if r.MultipartForm != nil {
			return nil
		}
		return r.ParseMultipartForm(1 << 20)
	}
	return r.ParseForm()
}

func (p *Pages) refuseCSRF(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, service.Errorf(service.CodeForbidden, "页面已过期或来源不明，请返回刷新页面后重新提交"))
}

// signedIn requires a session: a page sends the browser to the login form
// (and back afterwards), anything else is 401.
func (p *Pages) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if sessionOf(r) == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.fail(w, r, service.Errorf(service.CodeUnauthorized, "登录已失效，请重新登录"))
			return
		}
		h(w, r)
	}
}

// role requires a session of one of roles; another role is 403.
func (p *Pages) role(roles ...string) func(http.HandlerFunc) http.HandlerFunc {
	return func(h http.HandlerFunc) http.HandlerFunc {
		return p.signedIn(func(w http.ResponseWriter, r *http.Request) {
			a := actorOf(r)
			for _, role := range roles {
				if a.Role == role {
					h(w, r)
					return
				}
			}
			p.fail(w, r, service.Errorf(service.CodeForbidden, "当前账号无权打开此页面"))
		})
	}
}

func (p *Pages) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}

func (p *Pages) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}
