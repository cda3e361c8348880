package api

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// GuardConfig says which names the server answers to.
type GuardConfig struct {
	// Listen is the address the server listens on (http.listen), e.g. 127.0.0.1:8080. A host
	// name there (localhost:8080, news.example:8080) is accepted in Host headers.
	Listen string
	// AllowedHosts are further names clients use to reach the server (http.allowed_hosts): a
	// reverse proxy's name, a compose service or Kubernetes Service name. With or without a port;
	// compared without case and without the port.
	AllowedHosts []string
}

// Guard protects a handler from browsers that a web page steers at it. It refuses:
//
//   - any request whose Host header names a host that is neither an IP address, nor localhost,
//     nor the listen address's host, nor in AllowedHosts (421): a DNS-rebinding page reaches
//     a loopback server under its own name, so the name tells it apart;
//   - state changes (any method but GET, HEAD and OPTIONS) that a browser marks as coming from
//     another site or origin, by Sec-Fetch-Site or by an Origin that is not the Host (403;
//     net/http's CrossOriginProtection);
//   - POST, PUT and PATCH requests whose body is not Content-Type: application/json (415):
//     a form or a text/plain body is what a page can send without asking first.
//
// Clients that are not browsers (curl, scripts, Prometheus, probes) send none of the browser
// headers and are unaffected as long as they use an allowed Host. Guard wraps the whole API;
// other handlers served on the same listener (the analyst page) should be wrapped too.
func Guard(c GuardConfig, next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true}
	if h := hostOnly(c.Listen); h != "" {
		allowed[h] = true
	}
	for _, h := range c.AllowedHosts {
		if h = hostOnly(h); h != "" {
			allowed[h] = true
		}
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		Error(w, http.StatusForbidden, "cross-origin request refused: state changes are accepted only from this server's own pages or from clients that are not browsers")
	}))
	checked := cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if changesState(r.Method) && r.Method != http.MethodDelete && !isJSON(r.Header.Get("Content-Type")) {
			Error(w, http.StatusUnsupportedMediaType, "this request changes state: send its body as Content-Type: application/json")
			return
		}
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := hostOnly(r.Host); h != "" && !allowed[h] && !isIP(h) {
			Error(w, http.StatusMisdirectedRequest, "unknown host "+strconv.Quote(h)+
				": this server answers to its IP addresses, localhost and its listen address; add other names to http.allowed_hosts")
			return
		}
		checked.ServeHTTP(w, r)
	})
}

func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// hostOnly is the lower-case host of "host", "host:port" or "[v6]:port", without a trailing dot.
func hostOnly(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ".")
	return strings.ToLower(h)
}

func isIP(h string) bool {
	_, err := netip.ParseAddr(h)
	return err == nil
}
