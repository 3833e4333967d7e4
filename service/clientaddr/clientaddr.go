// Package clientaddr tells a request's client address behind the reverse
// proxies an operator trusts (MENQIAN_TRUSTED_PROXIES), for the rate limits
// and the security log; an X-Forwarded-For from anyone else is ignored.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds the client address of requests.
type Resolver struct {
	trusted []netip.Prefix
}

// New trusts the proxies at the given addresses or CIDR prefixes
// ("10.0.0.0/8", "127.0.0.1", "::1"); none: the connection's address is
// the client's.
func New(proxies []string) (*Resolver, error) {
	r := &Resolver{}
	for _, p := range proxies {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("%q: want an IP address or a CIDR prefix", p)
			}
			pre = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		r.trusted = append(r.trusted, pre.Masked())
	}
	return r, nil
}

func (r *Resolver) trusts(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of is req's client address: the connection's, unless it is a trusted
// proxy; then the right-most address of X-Forwarded-For that is not a trusted
// proxy (the left-most entries are whatever the client chose to send). A nil
// Resolver trusts nobody.
func (r *Resolver) Of(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil || r == nil || !r.trusts(remote.Unmap()) {
		return host
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a hop we cannot read: stop at the last proxy we trust
		}
		if !r.trusts(a.Unmap()) {
			return a.Unmap().String()
		}
		host = a.Unmap().String()
	}
	return host
}
