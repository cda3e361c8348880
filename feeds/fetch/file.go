package fetch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// fetchFile reads a file:// URL. Files have no server-side validators, so a
// weak ETag is synthesised from size and modification time; an unchanged
// file then answers NotModified like a 304.
func (f *Fetcher) fetchFile(ctx context.Context, u *url.URL, req Request) (*Response, error) {
	fail := func(kind Kind, err error) (*Response, error) {
		return nil, &Error{Kind: kind, URL: redactURL(u), Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(KindNetwork, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return fail(KindRefused, &refusal{msg: fmt.Sprintf(
			"file URLs must not name a host, got %q; use file:///absolute/path", u.Host)})
	}
	path := u.Path
	if u.Opaque != "" {
		path = u.Opaque // file:relative/path
	}
	if path == "" {
		return fail(KindRefused, &refusal{msg: "invalid file URL: no path"})
	}

	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(KindNetwork, fmt.Errorf("file %s does not exist", path))
	}
	if err != nil {
		return fail(KindNetwork, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fail(KindNetwork, err)
	}
	// Devices, FIFOs and directories could block forever or never end.
	if !st.Mode().IsRegular() {
		return fail(KindRefused, &refusal{msg: fmt.Sprintf("%s is not a regular file", path)})
	}

	out := &Response{
		StatusCode:   http.StatusOK,
		ETag:         fmt.Sprintf(`W/"%d-%d"`, st.Size(), st.ModTime().UnixNano()),
		LastModified: st.ModTime().UTC().Format(http.TimeFormat),
		FinalURL:     u.String(),
	}
	if fileNotModified(req, out.ETag, st.ModTime()) {
		out.NotModified, out.StatusCode = true, http.StatusNotModified
		return out, nil
	}
	body, err := readLimited(ctx, fh, f.cfg.MaxBodyBytes, st.Size(), req.Reserve)
	if errors.Is(err, errTooLarge) {
		return nil, f.tooLarge(u, "")
	}
	if err != nil {
		return fail(KindNetwork, err)
	}
	out.Body = body
	out.ContentType = mime.TypeByExtension(filepath.Ext(path))
	return out, nil
}

// fileNotModified applies HTTP's precedence: If-None-Match (weak
// comparison) decides when present, else If-Modified-Since at one-second
// resolution.
func fileNotModified(req Request, etag string, mtime time.Time) bool {
	if req.ETag != "" {
		return strings.TrimPrefix(req.ETag, "W/") == strings.TrimPrefix(etag, "W/")
	}
	if req.LastModified == "" {
		return false
	}
	since, err := http.ParseTime(req.LastModified)
	if err != nil {
		return false
	}
	return !mtime.Truncate(time.Second).After(since)
}
