package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
)

// Errors a FeedManager returns, wrapped, to pick the response status.
var (
	ErrFeedNotFound = errors.New("unknown feed")  // 404
	ErrFeedConflict = errors.New("feed conflict") // 409: id or URL in use, or a file feed
	ErrFeedInvalid  = errors.New("invalid feed")  // 400
)

// FeedRequest adds or changes a feed. For a change, empty fields stay as they are.
type FeedRequest struct {
	ID       string   `json:"id"`
	URL      string   `json:"url"`
	Schedule string   `json:"schedule"`
	Name     string   `json:"name,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// FullText fetches each new article's page and matches its main text too; nil leaves a
	// changed feed's setting as it is.
	FullText *bool `json:"full_text,omitempty"`
}

// FeedAdded answers a feed addition: the feed as configured, and how its URL was found when
// the request named a site rather than a feed.
type FeedAdded struct {
	ID       string   `json:"id"`
	URL      string   `json:"url"`
	Schedule string   `json:"schedule"`
	Name     string   `json:"name,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	FullText bool     `json:"full_text,omitempty"`
	// Requested is the URL the request gave, when discovery replaced it.
	Requested string `json:"requested,omitempty"`
	// FoundVia is url, link or guess (see feeds/discover).
	FoundVia  string `json:"found_via,omitempty"`
	FeedTitle string `json:"feed_title,omitempty"`
}

// ImportRequest imports an OPML document.
type ImportRequest struct {
	OPML string `json:"opml"`
	// Schedule is given to every imported feed (default: the feeds' default schedule).
	Schedule string `json:"schedule,omitempty"`
	// DryRun reports what would be imported without changing anything.
	DryRun bool `json:"dry_run,omitempty"`
}

// FeedManager changes the set of polled feeds at run time.
type FeedManager interface {
	Add(ctx context.Context, req FeedRequest) (FeedAdded, error)
	Update(ctx context.Context, id string, req FeedRequest) (FeedAdded, error)
	Remove(ctx context.Context, id string) error
	SetPaused(ctx context.Context, id string, paused bool) error
	// PollNow polls a feed at once and returns the poll outcome.
	PollNow(ctx context.Context, id string) (any, error)
	// Import adds an OPML file's feeds and returns the report.
	Import(ctx context.Context, req ImportRequest) (any, error)
	// Export writes every feed as OPML 2.0.
	Export(w io.Writer) error
}

func (s *server) feedRoutes(mux *http.ServeMux) {
	m := s.o.FeedManager
	if m == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/feeds/export", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="newswatch-feeds.opml"`)
		if err := m.Export(w); err != nil {
			s.o.Logger.Error("export feeds", "error", err)
		}
	})
	mux.HandleFunc("POST /api/v1/feeds", s.authorized(s.jsonBody(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req FeedRequest
		if !decodeStrict(w, body, &req) {
			return
		}
		added, err := m.Add(r.Context(), req)
		if err != nil {
			feedError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, added)
	})))
	mux.HandleFunc("PATCH /api/v1/feeds/{id}", s.authorized(s.jsonBody(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req FeedRequest
		if !decodeStrict(w, body, &req) {
			return
		}
		changed, err := m.Update(r.Context(), r.PathValue("id"), req)
		if err != nil {
			feedError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, changed)
	})))
	mux.HandleFunc("DELETE /api/v1/feeds/{id}", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Remove(r.Context(), r.PathValue("id")); err != nil {
			feedError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	for action, paused := range map[string]bool{"pause": true, "resume": false} {
		mux.HandleFunc("POST /api/v1/feeds/{id}/"+action, s.authorized(s.jsonBody(func(w http.ResponseWriter, r *http.Request, _ []byte) {
			if err := m.SetPaused(r.Context(), r.PathValue("id"), paused); err != nil {
				feedError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "paused": paused})
		})))
	}
	mux.HandleFunc("POST /api/v1/feeds/{id}/poll", s.authorized(s.jsonBody(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		poll, err := m.PollNow(r.Context(), r.PathValue("id"))
		if err != nil {
			feedError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, poll)
	})))
	mux.HandleFunc("POST /api/v1/feeds/import", s.authorized(s.jsonBodyMax(16<<20, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req ImportRequest
		if !decodeStrict(w, body, &req) {
			return
		}
		report, err := m.Import(r.Context(), req)
		if err != nil {
			feedError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, report)
	})))
}

// jsonBody accepts only application/json bodies (an empty body counts as {}), so that a
// cross-site form post cannot change state, and bounds them at 64 KiB.
func (s *server) jsonBody(h func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return s.jsonBodyMax(64<<10, h)
}

func (s *server) jsonBodyMax(limit int64, h func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			Error(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			Error(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		if len(body) == 0 {
			body = []byte("{}")
		}
		h(w, r, body)
	}
}

func decodeStrict(w http.ResponseWriter, body []byte, v any) bool {
	if err := strictJSON(body, v); err != nil {
		Error(w, http.StatusBadRequest, "bad request body: "+err.Error())
		return false
	}
	return true
}

func feedError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrFeedNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrFeedConflict):
		status = http.StatusConflict
	case errors.Is(err, ErrFeedInvalid):
		status = http.StatusBadRequest
	}
	Error(w, status, err.Error())
}
