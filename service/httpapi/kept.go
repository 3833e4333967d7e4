package httpapi

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/kept"
)

// Kept answers. The county lists of the API (shops, roads, notices, appeals,
// a shop's ledger, the demonstration view, bulletins) are read again and
// again by the consoles and the city's systems. An answer is kept per caller
// and URL and written again while nothing it shows can have changed, exactly
// as the pages keep theirs (service/web/pagecache.go):
//
//   - the same caller (user, role, county, shop and account generation; the
//     token or session is still checked on every request, and a disabled or
//     reset account is refused before its answers are looked up);
//   - the same database stamp (service.DataStamp: every write to what these
//     answers show bumps a county's change version in its transaction, on
//     any instance, and the stamp is read before the answer's data, so a
//     request that starts after a commit never gets an answer from before);
//   - the same second of the service's clock (answers also change as time
//     passes: a notice falls due, a cycle closes).
//
// Only 200 JSON answers to GET are kept, with the headers their handler set.
// Memory: at most maxKeptBytes, the least recently used dropped first.
const maxKeptBytes = 32 << 20

type keptKey struct {
	actor service.Actor
	uri   string
}

type keptStamp struct {
	data   service.DataStamp
	second int64
}

func newKept() *kept.Cache[keptKey, keptStamp] {
	return kept.New[keptKey, keptStamp](maxKeptBytes, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "menqian_api_kept_total",
		Help: "Reads of the API answers that may be kept (service/httpapi/kept.go): hit, a kept answer written again; shared, the answer of a concurrent reader; miss, computed.",
	}, []string{"result"}))
}

// keep serves the rest of the chain's GET answers from the kept ones.
func (a *API) keep(c *gin.Context) {
	if c.Request.Method != http.MethodGet {
		c.Next()
		return
	}
	data, err := a.svc.DataStamp(c.Request.Context())
	if err != nil {
		c.Next() // the handler reports the database's trouble itself
		return
	}
	key := keptKey{actor: actor(c), uri: c.Request.URL.RequestURI()}
	st := keptStamp{data: data, second: a.svc.Now().Unix()}
	e, f, lead, ok := a.kept.Lookup(key, st, c.Request.Context().Done())
	if !ok {
		a.fail(c, c.Request.Context().Err()) // the client is gone, or the deadline passed
		return
	}
	if e != nil {
		h := c.Writer.Header()
		for k, v := range e.Header {
			h.Set(k, v)
		}
		c.Status(http.StatusOK)
		for _, p := range e.Parts {
			c.Writer.Write(p)
		}
		c.Abort()
		return
	}
	if !lead {
		c.Next()
		return
	}
	var keep *kept.Entry[keptStamp]
	defer func() { a.kept.Land(key, st, f, keep) }() // also when a handler panics
	before := map[string]string{}
	for k := range c.Writer.Header() {
		before[k] = c.Writer.Header().Get(k)
	}
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Next()
	c.Writer = rec.ResponseWriter
	if c.Writer.Status() != http.StatusOK || c.Writer.Header().Get("Content-Type") != gin.MIMEJSON+"; charset=utf-8" {
		return
	}
	set := map[string]string{}
	for k, v := range c.Writer.Header() {
		if len(v) != 1 {
			return // a header sent twice: not replayed as it was
		}
		if b, ok := before[k]; !ok || b != v[0] {
			set[k] = v[0]
		}
	}
	keep = &kept.Entry[keptStamp]{Parts: [][]byte{bytes.Clone(rec.body.Bytes())}, Header: set}
}

// recorder passes an answer through and keeps a copy of its body.
type recorder struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recorder) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recorder) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
