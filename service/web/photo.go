package web

import (
	"net/http"
)

// photo serves an evidence photo to whoever the service lets see it: the
// county's users, its uploader and the merchant it concerns.
func (p *Pages) photo(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ph, err := p.svc.Photo(r.Context(), actorOf(r), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f, err := ph.Open(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", ph.ContentType)
	// The stored type, never sniffed (the pages' headers say so too): a
	// photo kept before uploads were cut at the picture's end may still
	// carry HTML behind it.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	http.ServeContent(w, r, "", ph.CreatedAt, f)
}
