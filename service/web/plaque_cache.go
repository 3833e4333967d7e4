package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/kept"
	"github.com/menqian/menqian/service/policy"
)

// maxPlaqueBytes bounds the pages a plaqueCache keeps: about 3.5 KB each,
// some 4,500 pages; past it the least recently scanned go first.
const maxPlaqueBytes = 16 << 20

// plaqueCache keeps what the plaque page can reuse between requests under one
// policy: the rules section (the duties and the whole catalogue by category,
// the same on every plaque), and the page of recently scanned shops as a
// visitor without a session gets it (what a WeChat scan opens), cut at its
// CSP nonce, the one part of that page that changes per request. A page is
// reused only for the very profile it was rendered from, so the page is as
// fresh as the public profile (and its JSON form) it shows; concurrent scans
// of one shop with one profile share its rendering.
type plaqueCache struct {
	rules func() (template.HTML, error)
	pages *kept.Cache[string, service.PublicProfile] // by merchant code
	json  *kept.Cache[string, service.PublicProfile] // the public JSON, by merchant code
}

// plaqueCache returns the pages' plaque cache.
func (p *Pages) plaqueCache() *plaqueCache { return p.plaques }

func (p *Pages) newPlaqueCache(pol *policy.Policy) *plaqueCache {
	duties := p.svc.Duties()
	return &plaqueCache{
		pages: kept.New[string, service.PublicProfile](maxPlaqueBytes, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "menqian_plaque_page_kept_total",
			Help: "Anonymous plaque page reads (service/web/plaque_cache.go): hit, a kept page; shared, a concurrent scan's rendering; miss, rendered.",
		}, []string{"result"})),
		json: kept.New[string, service.PublicProfile](maxPlaqueBytes/4, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "menqian_plaque_json_kept_total",
			Help: "Plaque JSON reads (service/web/plaque_cache.go): hit, a kept answer; shared, a concurrent scan's; miss, encoded.",
		}, []string{"result"})),
		rules: sync.OnceValues(func() (template.HTML, error) {
			var buf bytes.Buffer
			err := p.views.pages["plaque.html"].ExecuteTemplate(&buf, "plaquerules",
				view{"Policy": pol, "Groups": catalogueGroups(pol, true), "Duties": duties})
			return template.HTML(buf.String()), err
		}),
	}
}

// nonceEscaper writes a nonce as html/template writes it in an attribute
// value (its HTML escaper: a base64 nonce may hold '+').
var nonceEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// anonymousPlaque writes the plaque page of prof for a visitor without a
// session: the kept page with this response's nonce when the cache holds
// one for this very profile; else the page rendered as render does, which
// is then kept. data must hold nothing but what prof and the policy decide
// (not the token: a reissue keeps the profile).
func (p *Pages) anonymousPlaque(w http.ResponseWriter, r *http.Request, prof service.PublicProfile, data view) {
	c := p.plaqueCache()
	nonce := []byte(nonceEscaper.Replace(nonceOf(r)))
	pg, f, lead, ok := c.pages.Lookup(prof.Code, prof, r.Context().Done())
	if !ok {
		p.fail(w, r, r.Context().Err()) // the visitor is gone, or the deadline passed
		return
	}
	if pg != nil {
		writeKept(w, pg.Parts, nonce)
		return
	}
	var keep *kept.Entry[service.PublicProfile]
	if lead {
		defer func() { c.pages.Land(prof.Code, prof, f, keep) }()
	}
	rules, err := c.rules()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data["Rules"] = rules
	rec := &plaqueRecorder{statusWriter: statusWriter{ResponseWriter: w}}
	p.render(rec, r, http.StatusOK, "plaque.html", data)
	if rec.status != http.StatusOK || len(nonce) == 0 {
		return
	}
	if parts := bytes.Split(rec.body.Bytes(), nonce); len(parts) >= 2 { // else no nonce where the layout puts one: not reused
		keep = &kept.Entry[service.PublicProfile]{Parts: parts}
	}
}

// plaqueJSON writes the public JSON of prof: the kept encoding when the cache
// holds one for this very profile, else encoded (once for concurrent scans of
// one profile) and kept.
func (p *Pages) plaqueJSON(w http.ResponseWriter, r *http.Request, prof service.PublicProfile) {
	c := p.plaqueCache()
	e, f, lead, ok := c.json.Lookup(prof.Code, prof, r.Context().Done())
	if !ok {
		p.fail(w, r, r.Context().Err()) // the visitor is gone, or the deadline passed
		return
	}
	if e == nil {
		body, err := json.Marshal(p.publicProfileOf(prof))
		if err != nil {
			if lead {
				c.json.Land(prof.Code, prof, f, nil)
			}
			p.fail(w, r, err)
			return
		}
		body = append(body, '\n')
		e = &kept.Entry[service.PublicProfile]{Parts: [][]byte{body}}
		if lead {
			c.json.Land(prof.Code, prof, f, e)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(e.Parts[0])
}

// plaqueRecorder passes a response through and keeps a copy of its body.
type plaqueRecorder struct {
	statusWriter
	body bytes.Buffer
}

func (w *plaqueRecorder) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.statusWriter.Write(b)
}
