// Package fetch downloads feeds politely and safely: conditional GETs, a
// per-host concurrency limit, one deadline per request, a cap on the
// decompressed body, bounded redirects, and an SSRF guard that vets every
// address at dial time. It also reads file:// URLs with the same semantics.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by New to zero (or negative) Config fields.
const (
	DefaultTimeout            = 20 * time.Second
	DefaultMaxBodyBytes       = 10 << 20
	DefaultPerHostConcurrency = 2
	DefaultUserAgent          = "newswatch (+https://github.com/newswatch/newswatch)"
)

// acceptHeader prefers feed formats but takes anything, since many servers
// label feeds text/html or application/octet-stream.
const acceptHeader = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

// maxRedirects is the longest redirect chain followed.
const maxRedirects = 10

// Config configures a Fetcher; it mirrors the fetch section of the config
// file.
type Config struct {
	// Timeout is the deadline for a whole request: connect, TLS, headers and
	// body. Default 20s.
	Timeout time.Duration
	// MaxBodyBytes caps the body after decompression. Default 10 MiB.
	MaxBodyBytes int64
	// PerHostConcurrency caps requests in flight per host name. Default 2.
	PerHostConcurrency int
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
	// AllowPrivateNetworks turns the SSRF guard off.
	AllowPrivateNetworks bool
	// AllowNetworks are ranges the SSRF guard lets through even though they
	// are private, e.g. one internal feed server.
	AllowNetworks []netip.Prefix
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("fetch.timeout: must not be negative, got %s", c.Timeout))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("fetch.max_body_bytes: must not be negative, got %d", c.MaxBodyBytes))
	}
	if c.PerHostConcurrency < 0 {
		errs = append(errs, fmt.Errorf("fetch.per_host_concurrency: must not be negative, got %d", c.PerHostConcurrency))
	}
	for i, p := range c.AllowNetworks {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("fetch.allow_networks[%d]: not a valid CIDR prefix", i))
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns c with zero and negative fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.PerHostConcurrency <= 0 {
		c.PerHostConcurrency = DefaultPerHostConcurrency
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	return c
}

// Request is one fetch of a feed URL, with the validators stored from the
// previous successful fetch.
type Request struct {
	// URL is an http, https or file URL.
	URL string
	// ETag and LastModified are sent as If-None-Match and If-Modified-Since
	// when not empty.
	ETag, LastModified string
	// Reserve, when set, is called before the body grows by n bytes, so a caller can hold
	// the bytes in flight to a budget; an error from it ends the fetch with that error.
	// The caller releases what it reserved once it is done with the body.
	Reserve func(ctx context.Context, n int64) error
}

// Response is a successful fetch: either new content or "not modified".
type Response struct {
	// NotModified is true when the content is unchanged since the validators
	// in the Request; Body is then empty.
	NotModified bool
	// StatusCode is the HTTP status; file URLs report 200 or 304.
	StatusCode int
	// Body is the decompressed body, at most Config.MaxBodyBytes long.
	Body []byte
	// ContentType is the Content-Type header (for files, guessed from the
	// extension), possibly empty.
	ContentType string
	// ETag and LastModified are the validators to send with the next
	// request. On a 304 without them, the Request's are returned.
	ETag, LastModified string
	// FinalURL is the URL that answered, after redirects. Like the
	// requested URL it may carry credentials; redact it before logging.
	FinalURL string
	// Links are the values of the Link headers (RFC 8288), where a feed
	// may announce its WebSub hub.
	Links []string
}

// Fetcher fetches feeds. It is safe for concurrent use; create one per
// process so all feeds share one connection pool and one per-host limit.
type Fetcher struct {
	cfg     Config
	dialer  *net.Dialer // its Resolver is nil (the system's) but in tests
	client  *http.Client
	limiter *hostLimiter
	now     func() time.Time
}

// New returns a Fetcher for cfg, filling in defaults for zero fields. All
// feeds fetched through it share one http.Transport.
func New(cfg Config) *Fetcher {
	cfg = cfg.withDefaults()
	g := newGuard(cfg.AllowPrivateNetworks, cfg.AllowNetworks)
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivateNetworks {
		dialer.Control = g.control
	}
	transport := &http.Transport{
		// No proxy, deliberately: through a proxy the guard would only vet
		// the proxy's address while the proxy resolves and connects to the
		// target, so an internal URL would pass. Ignoring HTTP_PROXY also
		// keeps the egress path explicit rather than environment-dependent.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    cfg.PerHostConcurrency,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// DisableCompression stays false: the transport then asks for gzip
		// and decompresses transparently, which puts the body limit on the
		// decompressed bytes and so bounds gzip bombs too.
	}
	return &Fetcher{
		cfg:     cfg,
		dialer:  dialer,
		client:  &http.Client{Transport: transport, CheckRedirect: checkRedirect},
		limiter: newHostLimiter(cfg.PerHostConcurrency),
		now:     time.Now,
	}
}

// UserAgent returns the User-Agent header sent with every request.
func (f *Fetcher) UserAgent() string { return f.cfg.UserAgent }

// CloseIdleConnections closes idle keep-alive connections; call it on
// shutdown.
func (f *Fetcher) CloseIdleConnections() { f.client.CloseIdleConnections() }

// checkRedirect limits the redirect chain and allows only http and https
// targets; the dial-time guard then vets each hop's address.
func checkRedirect(req *http.Request, via []*http.Request) error {
	last := redactURL(via[len(via)-1].URL)
	if len(via) > maxRedirects {
		return &redirectError{last: last, err: redirectLimitError{}}
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &redirectError{last: last, err: &refusal{msg: fmt.Sprintf(
			"refused to follow a redirect to %s: only http and https redirects are followed", redactURL(req.URL))}}
	}
	return nil
}

// redirectError carries a checkRedirect failure together with the last URL
// requested, because the client reports the raw Location header instead.
type redirectError struct {
	last string
	err  error
}

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// Fetch fetches req.URL. A 304 (or an unchanged file) yields a Response with
// NotModified set and no error. Every failure is an *Error.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, &Error{Kind: KindRefused, URL: req.URL, Err: &refusal{msg: "invalid URL: " + err.Error()}}
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, &Error{Kind: KindRefused, URL: redactURL(u), Err: &refusal{msg: "invalid URL: no host"}}
		}
		return f.fetchHTTP(ctx, u, req)
	case "file":
		return f.fetchFile(ctx, u, req)
	}
	return nil, &Error{Kind: KindRefused, URL: redactURL(u), Err: &refusal{msg: fmt.Sprintf(
		"unsupported URL scheme %q: use http, https or file", u.Scheme)}}
}

func (f *Fetcher) fetchHTTP(ctx context.Context, u *url.URL, req Request) (*Response, error) {
	release, err := f.limiter.acquire(ctx, strings.ToLower(u.Hostname()))
	if err != nil {
		return nil, &Error{Kind: KindNetwork, URL: redactURL(u), Err: fmt.Errorf("waiting for a free per-host slot: %w", err)}
	}
	defer release()

	// The deadline starts once a slot is held, so queueing behind other
	// feeds of the same host does not eat into a request's time.
	tctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()

	hreq, err := f.newRequest(tctx, u, req)
	if err != nil {
		return nil, &Error{Kind: KindRefused, URL: redactURL(u), Err: &refusal{msg: "invalid request: " + err.Error()}}
	}
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, f.transportError(ctx, tctx, u, err, "waiting for the response")
	}
	defer resp.Body.Close()
	return f.readResponse(ctx, tctx, u, req, resp)
}

// readResponse turns a response into a Response or an *Error, reading the
// body within the limit.
func (f *Fetcher) readResponse(ctx, tctx context.Context, u *url.URL, req Request, resp *http.Response) (*Response, error) {
	final := resp.Request.URL.String()

	switch {
	case resp.StatusCode == http.StatusNotModified:
		out := &Response{NotModified: true, StatusCode: resp.StatusCode, FinalURL: final,
			ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
		if out.ETag == "" {
			out.ETag = req.ETag
		}
		if out.LastModified == "" {
			out.LastModified = req.LastModified
		}
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Drain a little so the connection can be reused for the retry.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		e := &Error{Kind: KindHTTP, URL: redactURL(u), StatusCode: resp.StatusCode, hop: redact(final)}
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), f.now()); ok {
			e.RetryAfter = d
		}
		return nil, e
	}

	body, err := readLimited(ctx, resp.Body, f.cfg.MaxBodyBytes, resp.ContentLength, req.Reserve)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, f.tooLarge(u, final)
		}
		e := f.transportError(ctx, tctx, u, err, "reading the body")
		e.hop = redact(final)
		return nil, e
	}
	return &Response{
		StatusCode:   resp.StatusCode,
		Body:         body,
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		FinalURL:     final,
		Links:        resp.Header.Values("Link"),
	}, nil
}

// newRequest builds the GET with the politeness and conditional headers.
// Accept-Encoding is left to the transport; see New.
func (f *Fetcher) newRequest(ctx context.Context, u *url.URL, req Request) (*http.Request, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("User-Agent", f.cfg.UserAgent)
	hreq.Header.Set("Accept", acceptHeader)
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}
	return hreq, nil
}

// transportError turns an error from the client or the body into an *Error.
// parent is the caller's context and tctx the one carrying Config.Timeout,
// so a caller's cancellation is not mistaken for a timeout.
func (f *Fetcher) transportError(parent, tctx context.Context, u *url.URL, err error, stage string) *Error {
	e := &Error{Kind: KindNetwork, URL: redactURL(u)}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
		e.hop = redact(ue.URL)
	}
	if re, ok := errors.AsType[*redirectError](err); ok {
		err, e.hop = re.err, re.last
	}
	if r, ok := errors.AsType[*refusal](err); ok {
		e.Kind, e.Err = KindRefused, r
		return e
	}
	if errors.Is(err, redirectLimitError{}) {
		e.Kind, e.Err = KindHTTP, err
		return e
	}
	switch {
	case parent.Err() != nil:
		e.Err = parent.Err()
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		e.Err = &timeoutError{after: f.cfg.Timeout, stage: stage}
	default:
		e.Err = err
	}
	return e
}

func (f *Fetcher) tooLarge(u *url.URL, final string) *Error {
	return &Error{Kind: KindTooLarge, URL: redactURL(u), hop: redact(final), Err: fmt.Errorf(
		"body exceeds the limit of %d bytes (fetch.max_body_bytes)", f.cfg.MaxBodyBytes)}
}

// errTooLarge is returned by readLimited when the body exceeds the limit.
var errTooLarge = errors.New("body too large")

// readLimited reads r to the end but never more than limit+1 bytes, so an
// endless or decompression-bomb body costs at most the limit in memory.
// sizeHint (a Content-Length, or -1) presizes the buffer. reserve, when not
// nil, is asked for every byte of capacity before the buffer takes it.
func readLimited(ctx context.Context, r io.Reader, limit, sizeHint int64, reserve func(context.Context, int64) error) ([]byte, error) {
	if sizeHint > limit {
		return nil, errTooLarge
	}
	if reserve == nil {
		reserve = func(context.Context, int64) error { return nil }
	}
	size := int64(readChunk)
	if sizeHint > 0 {
		size = sizeHint + 1 // +1 to see the end without growing
	}
	size = min(size, limit+1)
	if err := reserve(ctx, size); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			grow := min(int64(cap(buf)), limit+1-int64(cap(buf)), maxReadGrow)
			if grow <= 0 {
				break
			}
			if err := reserve(ctx, grow); err != nil {
				return nil, err
			}
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, errTooLarge
	}
	return buf, nil
}

// readChunk is the first buffer for a body of unknown length; maxReadGrow bounds one growth
// step, so a budget is asked for at most that much beyond what the body has shown.
const (
	readChunk   = 32 << 10
	maxReadGrow = 1 << 20
)
