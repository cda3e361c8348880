package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// FormResponse is a server's answer to PostForm: its status and the start of its body, for
// an error message.
type FormResponse struct {
	StatusCode int
	// Body is at most the first 1 KiB of the answer.
	Body string
}

// maxFormAnswer bounds what PostForm reads of an answer.
const maxFormAnswer = 1 << 10

// PostForm sends form as application/x-www-form-urlencoded to rawURL (http or https) with the
// fetcher's policy: the SSRF guard at dial time, the per-host limit, the timeout, the
// User-Agent and the redirect rules. Any answer is returned, whatever its status; a request
// that gets none fails with an *Error. WebSub subscription requests use it, so a hub is held
// to the same rules as the feeds it serves.
func (f *Fetcher) PostForm(ctx context.Context, rawURL string, form url.Values) (*FormResponse, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Kind: KindRefused, URL: rawURL, Err: &refusal{msg: "invalid URL: " + err.Error()}}
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, &Error{Kind: KindRefused, URL: redactURL(u), Err: &refusal{msg: fmt.Sprintf(
			"unsupported URL %q: use an http or https URL with a host", redactURL(u))}}
	}
	release, err := f.limiter.acquire(ctx, strings.ToLower(u.Hostname()))
	if err != nil {
		return nil, &Error{Kind: KindNetwork, URL: redactURL(u), Err: fmt.Errorf("waiting for a free per-host slot: %w", err)}
	}
	defer release()
	tctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(tctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &Error{Kind: KindRefused, URL: redactURL(u), Err: &refusal{msg: "invalid request: " + err.Error()}}
	}
	hreq.Header.Set("User-Agent", f.cfg.UserAgent)
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, f.transportError(ctx, tctx, u, err, "waiting for the response")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxFormAnswer))
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10) // so the connection can be reused
	return &FormResponse{StatusCode: resp.StatusCode, Body: string(body)}, nil
}
