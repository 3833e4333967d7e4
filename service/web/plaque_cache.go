package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/policy"
)

// maxPlaquePages bounds the pages a plaqueCache keeps: about 3.5 KB each, so
// at most some 15 MB; past it an arbitrary page is dropped for each new one.
const maxPlaquePages = 4096

// plaqueCache keeps what the plaque page can reuse between requests under one
// policy: the rules section (the duties and the whole catalogue by category,
// the same on every plaque), and the page of recently scanned shops as a
// visitor without a session gets it (what a WeChat scan opens), cut at its
// CSP nonce, the one part of that page that changes per request. A page is
// reused only for the very profile it was rendered from, so the page is as
// fresh as the public profile (and its JSON form) it shows.
type plaqueCache struct {
	rules func() (template.HTML, error)

	mu    sync.RWMutex
	pages map[string]plaquePage // by merchant code
}

// plaquePage is a rendered page and the profile it shows.
type plaquePage struct {
	prof  service.PublicProfile
	parts [][]byte // the page split at each occurrence of its nonce
}

// plaqueCache returns the pages' plaque cache.
func (p *Pages) plaqueCache() *plaqueCache { return p.plaques }

func (p *Pages) newPlaqueCache(pol *policy.Policy) *plaqueCache {
	duties := p.svc.Duties()
	return &plaqueCache{
		pages: map[string]plaquePage{},
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
// session: the cached page with this response's nonce when the cache holds
// one for this very profile; else the page rendered as render does, which
// is then kept. data must hold nothing but what prof and the policy decide
// (not the token: a reissue keeps the profile).
func (p *Pages) anonymousPlaque(w http.ResponseWriter, r *http.Request, prof service.PublicProfile, data view) {
	c := p.plaqueCache()
	nonce := nonceEscaper.Replace(nonceOf(r))
	c.mu.RLock()
	pg, ok := c.pages[prof.Code]
	c.mu.RUnlock()
	if ok && pg.prof == prof {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		for i, part := range pg.parts {
			if i > 0 {
				w.Write([]byte(nonce))
			}
			w.Write(part)
		}
		return
	}
	rules, err := c.rules()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data["Rules"] = rules
	rec := &plaqueRecorder{statusWriter: statusWriter{ResponseWriter: w}}
	p.render(rec, r, http.StatusOK, "plaque.html", data)
	if rec.status != http.StatusOK || nonce == "" {
		return
	}
	parts := bytes.Split(rec.body.Bytes(), []byte(nonce))
	if len(parts) < 2 {
		return // no nonce found where the layout puts one: do not reuse it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[prof.Code]; !ok && len(c.pages) >= maxPlaquePages {
		for k := range c.pages {
			delete(c.pages, k)
			break
		}
	}
	c.pages[prof.Code] = plaquePage{prof: prof, parts: parts}
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
