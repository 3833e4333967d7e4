package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/kept"
)

// Kept pages. A console, officer or merchant page costs a few SQL reads and
// an html/template execution (half a millisecond for a table of a hundred
// rows), while a signed-in user reads the same page again and again. So the
// page a session got is kept and written again, with the response's own
// CSP nonce spliced in, while nothing it shows can have changed:
//
//   - the same session and user (its name, role, county and status as the
//     session lookup of this very request read them: a renamed or disabled
//     account is seen at once, as without the cache);
//   - the same database stamp (service.DataStamp: every write to what the
//     pages show bumps a county's change version in its transaction, on any
//     instance, and the stamp is read before the page's data, so a request
//     that starts after a commit never gets a page from before it);
//   - the same second of the service's clock, since pages also change as
//     time passes (a notice falls due, an appeal's deadline passes, a
//     cycle closes): a deadline shows as passed within the second it passes.
//
// Only 200 text/html answers to GET are kept, and only when the handler set
// no header but Content-Type (a page that sets a cookie is never reused).
// Memory: at most maxKeptBytes of pages (each at most 1/64 of it), the
// least recently used dropped first.
const maxKeptBytes = 32 << 20

type keptKey struct {
	session, uri string
}

// keptStamp is what a kept page was rendered under.
type keptStamp struct {
	data   service.DataStamp
	second int64
	user   keptUser
}

type keptUser struct {
	id                      int64
	username, name, role    string
	county, merchant        int64
	disabled                bool
	updated, sessionExpires time.Time
}

func newKeptPages() *kept.Cache[keptKey, keptStamp] {
	return kept.New[keptKey, keptStamp](maxKeptBytes, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "menqian_page_kept_total",
		Help: "Reads of the pages that may be kept (service/web/pagecache.go): hit, a kept page written again; shared, the render of a concurrent reader; miss, rendered.",
	}, []string{"result"}))
}

// keep serves h's GET pages from the kept pages (see above).
func (p *Pages) keep(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, nonce := sessionOf(r), nonceOf(r)
		if r.Method != http.MethodGet || s == nil || nonce == "" {
			h(w, r)
			return
		}
		data, err := p.svc.DataStamp(r.Context())
		if err != nil {
			h(w, r) // the page reports the database's trouble itself
			return
		}
		u := s.User
		st := keptStamp{data: data, second: p.svc.Now().Unix(), user: keptUser{id: u.ID, username: u.Username,
			name: u.DisplayName, role: u.Role, county: deref(u.CountyID), merchant: deref(u.MerchantID),
			disabled: u.Disabled, updated: u.UpdatedAt, sessionExpires: s.ExpiresAt}}
		key := keptKey{session: s.ID, uri: r.URL.RequestURI()}
		escaped := []byte(nonceEscaper.Replace(nonce))
		pg, f, lead, ok := p.kept.Lookup(key, st, r.Context().Done())
		if !ok {
			p.fail(w, r, r.Context().Err()) // the client is gone, or the deadline passed
			return
		}
		if pg != nil {
			writeKept(w, pg.Parts, escaped)
			return
		}
		if !lead {
			h(w, r)
			return
		}
		var keep *kept.Entry[keptStamp]
		defer func() { p.kept.Land(key, st, f, keep) }() // also when h panics
		before := len(w.Header())
		_, typed := w.Header()["Content-Type"]
		rec := &plaqueRecorder{statusWriter: statusWriter{ResponseWriter: w}}
		h(rec, r)
		hdr := w.Header()
		if _, typedNow := hdr["Content-Type"]; rec.status != http.StatusOK || typed || len(hdr) != before+1 || !typedNow ||
			hdr.Get("Content-Type") != "text/html; charset=utf-8" {
			return
		}
		parts := bytes.Split(rec.body.Bytes(), escaped)
		if len(parts) < 2 {
			return // no nonce where the layout puts one: do not reuse it
		}
		keep = &kept.Entry[keptStamp]{Parts: parts}
	}
}

// writeKept writes a kept page: its parts with the response's nonce between
// them, through the server's buffer. (Joining them into one write with a
// Content-Length was slower in an A/B run of the plaque page on MariaDB under
// load: 0.37–0.41 of a bare handler against 0.47–0.53.)
func writeKept(w http.ResponseWriter, parts [][]byte, nonce []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	for i, p := range parts {
		if i > 0 {
			w.Write(nonce)
		}
		w.Write(p)
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
