// Package reqid names requests: it keeps a sane incoming X-Request-ID or makes
// a new one, unique across instances and restarts, for the logs of the JSON API
// and the pages alike.
package reqid

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
)

// Header is the request and response header that carries the id.
const Header = "X-Request-ID"

// ids numbers the requests of this process after a random prefix, so ids are
// unique across instances and restarts without a random read each.
var ids = struct {
	prefix string
	n      atomic.Uint64
}{prefix: func() string {
	b := make([]byte, 5)
	rand.Read(b)
	return hex.EncodeToString(b)
}()}

// From returns incoming when it is a sane id (8 to 64 printable ASCII
// characters, no spaces), else a new id.
func From(incoming string) string {
	if len(incoming) < 8 || len(incoming) > 64 || strings.ContainsFunc(incoming, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return ids.prefix + strconv.FormatUint(ids.n.Add(1), 36)
	}
	return incoming
}
