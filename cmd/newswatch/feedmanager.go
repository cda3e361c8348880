package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/newswatch/newswatch/api"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds"
	"github.com/newswatch/newswatch/feeds/discover"
	"github.com/newswatch/newswatch/feeds/opml"
	"github.com/robfig/cron/v3"
)

// feedManager implements the API's feed endpoints over the App's runtime feeds (sources.go).
type feedManager struct{ a *App }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", api.ErrFeedInvalid, fmt.Sprintf(format, args...))
}

func validID(id string) bool {
	return id != "" && len(id) <= opml.MaxIDLen && strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

func checkRequest(req api.FeedRequest) error {
	if req.Schedule != "" {
		if _, err := cron.ParseStandard(req.Schedule); err != nil {
			return invalid("schedule %q: %v", req.Schedule, err)
		}
	}
	for _, t := range req.Tags {
		if !validID(t) {
			return invalid("tag %q: use 1 to %d characters from a-z, 0-9 and -", t, opml.MaxIDLen)
		}
	}
	return nil
}

// resolve turns the URL a request gives into a feed URL: a feed stays, a site's page is
// searched for its feed (discover.Find, through the App's fetcher and its SSRF guard).
func (m feedManager) resolve(ctx context.Context, raw string) (discover.Found, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return discover.Found{}, invalid("url %q: give an http:// or https:// address of a feed or a site", raw)
	}
	found, err := discover.Find(ctx, m.a.fetcher, raw)
	if err != nil {
		return discover.Found{}, invalid("%v", err)
	}
	return found, nil
}

// inUse returns the id of a configured or runtime feed with this URL.
func inUse(cfg *config.Config, doc runtimeFeeds, feedURL, except string) (string, bool) {
	key := opml.URLKey(feedURL)
	for _, f := range feedSet(cfg, doc) {
		if f.ID != except && opml.URLKey(f.URL) == key {
			return f.ID, true
		}
	}
	return "", false
}

func (m feedManager) Add(ctx context.Context, req api.FeedRequest) (api.FeedAdded, error) {
	if !validID(req.ID) {
		return api.FeedAdded{}, invalid("id %q: use 1 to %d characters from a-z, 0-9 and -", req.ID, opml.MaxIDLen)
	}
	if err := checkRequest(req); err != nil {
		return api.FeedAdded{}, err
	}
	found, err := m.resolve(ctx, req.URL)
	if err != nil {
		return api.FeedAdded{}, err
	}
	f := runtimeFeed{ID: req.ID, Name: req.Name, URL: found.URL, Schedule: req.Schedule, Tags: req.Tags, FullText: req.FullText != nil && *req.FullText, AddedAt: m.a.deps.Now().UTC()}
	if f.Schedule == "" {
		f.Schedule = defaultRuntimeSchedule
	}
	err = m.a.changeSources(ctx, func(cfg *config.Config, doc *runtimeFeeds) error {
		if slices.ContainsFunc(cfg.Feeds, func(c config.Feed) bool { return c.ID == f.ID }) {
			return fmt.Errorf("%w: feed %s is declared in the config file; choose another id", api.ErrFeedConflict, f.ID)
		}
		if slices.ContainsFunc(doc.Feeds, func(r runtimeFeed) bool { return r.ID == f.ID }) {
			return fmt.Errorf("%w: feed %s exists; change it with PATCH or choose another id", api.ErrFeedConflict, f.ID)
		}
		if id, dup := inUse(cfg, *doc, f.URL, ""); dup {
			return fmt.Errorf("%w: %s is already polled as feed %s", api.ErrFeedConflict, f.URL, id)
		}
		doc.Feeds = append(doc.Feeds, f)
		doc.Paused = slices.DeleteFunc(doc.Paused, func(id string) bool { return id == f.ID })
		return nil
	})
	if err != nil {
		return api.FeedAdded{}, err
	}
	out := added(f)
	out.FoundVia, out.FeedTitle = found.Via, found.Title
	if found.URL != req.URL {
		out.Requested = req.URL
	}
	return out, nil
}

func added(f runtimeFeed) api.FeedAdded {
	return api.FeedAdded{ID: f.ID, URL: f.URL, Schedule: f.Schedule, Name: f.Name, Tags: f.Tags, FullText: f.FullText}
}

// runtimeOnly finds a runtime feed for a change, or says why it cannot be changed.
func runtimeOnly(cfg *config.Config, doc *runtimeFeeds, id string) (int, error) {
	if slices.ContainsFunc(cfg.Feeds, func(c config.Feed) bool { return c.ID == id }) {
		return -1, fmt.Errorf("%w: feed %s is declared in the config file: edit the file and send SIGHUP", api.ErrFeedConflict, id)
	}
	i := slices.IndexFunc(doc.Feeds, func(r runtimeFeed) bool { return r.ID == id })
	if i < 0 {
		return -1, fmt.Errorf("%w %q", api.ErrFeedNotFound, id)
	}
	return i, nil
}

func (m feedManager) Update(ctx context.Context, id string, req api.FeedRequest) (api.FeedAdded, error) {
	if req.ID != "" && req.ID != id {
		return api.FeedAdded{}, invalid("a feed's id cannot change; remove it and add it anew")
	}
	if err := checkRequest(req); err != nil {
		return api.FeedAdded{}, err
	}
	var found discover.Found
	if req.URL != "" {
		var err error
		if found, err = m.resolve(ctx, req.URL); err != nil {
			return api.FeedAdded{}, err
		}
	}
	var out runtimeFeed
	err := m.a.changeSources(ctx, func(cfg *config.Config, doc *runtimeFeeds) error {
		i, err := runtimeOnly(cfg, doc, id)
		if err != nil {
			return err
		}
		f := doc.Feeds[i]
		if found.URL != "" {
			if other, dup := inUse(cfg, *doc, found.URL, id); dup {
				return fmt.Errorf("%w: %s is already polled as feed %s", api.ErrFeedConflict, found.URL, other)
			}
			f.URL = found.URL
		}
		if req.Schedule != "" {
			f.Schedule = req.Schedule
		}
		if req.Name != "" {
			f.Name = req.Name
		}
		if req.Tags != nil {
			f.Tags = req.Tags
		}
		if req.FullText != nil {
			f.FullText = *req.FullText
		}
		doc.Feeds[i] = f
		out = f
		return nil
	})
	if err != nil {
		return api.FeedAdded{}, err
	}
	res := added(out)
	res.FoundVia, res.FeedTitle = found.Via, found.Title
	return res, nil
}

func (m feedManager) Remove(ctx context.Context, id string) error {
	return m.a.changeSources(ctx, func(cfg *config.Config, doc *runtimeFeeds) error {
		i, err := runtimeOnly(cfg, doc, id)
		if err != nil {
			return err
		}
		doc.Feeds = slices.Delete(doc.Feeds, i, i+1)
		doc.Paused = slices.DeleteFunc(doc.Paused, func(p string) bool { return p == id })
		return nil
	})
}

func (m feedManager) SetPaused(ctx context.Context, id string, paused bool) error {
	return m.a.changeSources(ctx, func(cfg *config.Config, doc *runtimeFeeds) error {
		if !slices.ContainsFunc(feedSet(cfg, *doc), func(f feeds.Feed) bool { return f.ID == id }) {
			return fmt.Errorf("%w %q", api.ErrFeedNotFound, id)
		}
		doc.Paused = slices.DeleteFunc(doc.Paused, func(p string) bool { return p == id })
		if paused {
			doc.Paused = append(doc.Paused, id)
		}
		return nil
	})
}

func (m feedManager) PollNow(ctx context.Context, id string) (any, error) {
	poll, err := m.a.poller.PollNow(ctx, id)
	if errors.Is(err, feeds.ErrUnknownFeed) {
		return nil, fmt.Errorf("%w %q", api.ErrFeedNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", api.ErrFeedConflict, err)
	}
	return poll, nil
}

// importReport answers an OPML import.
type importReport struct {
	Title    string          `json:"title,omitempty"`
	DryRun   bool            `json:"dry_run,omitempty"`
	Added    []api.FeedAdded `json:"added"`
	Problems []opml.Problem  `json:"problems"`
}

func (m feedManager) Import(ctx context.Context, req api.ImportRequest) (any, error) {
	if err := checkRequest(api.FeedRequest{Schedule: req.Schedule}); err != nil {
		return nil, err
	}
	doc, err := opml.Parse(strings.NewReader(req.OPML), opml.Limits{})
	if err != nil {
		return nil, invalid("%v", err)
	}
	schedule := req.Schedule
	if schedule == "" {
		schedule = defaultRuntimeSchedule
	}
	rep := importReport{Title: doc.Title, DryRun: req.DryRun, Added: []api.FeedAdded{}, Problems: []opml.Problem{}}
	plan := func(cfg *config.Config, cur *runtimeFeeds) []runtimeFeed {
		known := opml.Known{
			IDTaken: func(id string) bool {
				return slices.ContainsFunc(cfg.Feeds, func(c config.Feed) bool { return c.ID == id }) ||
					slices.ContainsFunc(cur.Feeds, func(r runtimeFeed) bool { return r.ID == id })
			},
			URLOf: func(u string) (string, bool) { return inUse(cfg, *cur, u, "") },
		}
		planned, problems := opml.Plan(doc, known)
		rep.Problems = append(rep.Problems, problems...)
		out := make([]runtimeFeed, len(planned))
		for i, p := range planned {
			out[i] = runtimeFeed{ID: p.ID, Name: p.Title, URL: p.URL, Schedule: schedule, Tags: p.Tags, AddedAt: m.a.deps.Now().UTC()}
			rep.Added = append(rep.Added, added(out[i]))
		}
		return out
	}
	if req.DryRun {
		m.a.sources.mu.Lock()
		cur := m.a.sources.doc
		m.a.sources.mu.Unlock()
		plan(m.a.config(), &cur)
		return rep, nil
	}
	err = m.a.changeSources(ctx, func(cfg *config.Config, cur *runtimeFeeds) error {
		// Planned afresh on each attempt (changeSources may retry on a newer document).
		rep.Added, rep.Problems = []api.FeedAdded{}, []opml.Problem{}
		cur.Feeds = append(cur.Feeds, plan(cfg, cur)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func (m feedManager) Export(w io.Writer) error {
	cfg := m.a.config()
	m.a.sources.mu.Lock()
	doc := m.a.sources.doc
	m.a.sources.mu.Unlock()
	var subs []opml.Subscription
	for _, f := range cfg.Feeds {
		subs = append(subs, opml.Subscription{ID: f.ID, Title: firstNonEmpty(f.Name, f.ID), XMLURL: f.URL, Categories: f.Tags})
	}
	inSet := feedSet(cfg, doc)
	for _, f := range doc.Feeds {
		if slices.ContainsFunc(inSet, func(g feeds.Feed) bool { return g.ID == f.ID && g.URL == f.URL }) {
			subs = append(subs, opml.Subscription{ID: f.ID, Title: firstNonEmpty(f.Name, f.ID), XMLURL: f.URL, Categories: f.Tags})
		}
	}
	return opml.Write(w, "newswatch feeds", subs, m.a.deps.Now())
}
