package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds"
	"github.com/newswatch/newswatch/feeds/opml"
	"github.com/newswatch/newswatch/matching"
)

// Feeds managed at run time (docs/sources.md).
//
// The config file stays the source of the feeds it declares; feeds added through the API or CLI
// are "runtime" feeds, kept with the pause flags in one JSON document in the state bucket
// (key state.feeds.runtime), so one write changes them atomically, an OPML import included.
// The polled set is always the file's feeds followed by the runtime ones, computed afresh by
// feedSet and handed to the poller's SetFeeds: the API, the CLI and SIGHUP all take that path.
// A runtime feed cannot take an id or URL the file uses; should a later edit of the file
// declare one, the file's feed wins and the runtime one is left out, with a warning.

const runtimeFeedsKey = "feeds.runtime"

// defaultRuntimeSchedule is a runtime feed's schedule when the request names none (the same
// default as the config file's).
const defaultRuntimeSchedule = "@every 5m"

// runtimeFeed is a feed added at run time.
type runtimeFeed struct {
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	URL      string    `json:"url"`
	Schedule string    `json:"schedule"`
	Tags     []string  `json:"tags,omitempty"`
	FullText bool      `json:"full_text,omitempty"`
	AddedAt  time.Time `json:"added_at"`
}

// runtimeFeeds is the stored document.
type runtimeFeeds struct {
	Feeds []runtimeFeed `json:"feeds"`
	// Paused are the ids of paused feeds, file or runtime.
	Paused []string `json:"paused,omitempty"`
}

// sourceSet holds the runtime document and its revision in the state bucket; mu serialises
// changes from their read to their application, so two API calls cannot lose each other's
// change, and a change followed from another instance of a cluster (syncSources) with both.
type sourceSet struct {
	mu  sync.Mutex
	doc runtimeFeeds
	rev uint64
}

// loadSources reads the runtime feeds at start.
func (a *App) loadSources(ctx context.Context) error {
	doc, rev, err := readRuntimeFeeds(ctx, a.conn)
	if err != nil {
		return err
	}
	a.sources = &sourceSet{doc: doc, rev: rev}
	return nil
}

// readRuntimeFeeds reads the runtime document stored now and its revision; an absent or lost
// one is empty.
func readRuntimeFeeds(ctx context.Context, conn *events.Conn) (runtimeFeeds, uint64, error) {
	var doc runtimeFeeds
	data, rev, err := conn.GetStateRev(ctx, runtimeFeedsKey)
	if err != nil {
		return doc, 0, fmt.Errorf("read runtime feeds: %w", err)
	}
	if data == nil {
		return doc, rev, nil
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return runtimeFeeds{}, 0, fmt.Errorf("read runtime feeds (state key %s): %w", runtimeFeedsKey, err)
	}
	return doc, rev, nil
}

// syncSources applies the stored runtime document when it is newer than the one this instance
// holds: a change made through another instance of the cluster (followState). It takes the
// same path as a change through the API: the polled set recomputed and handed to the poller,
// the feeds' tags to the matcher. The instance that stored a version holds its revision
// already and does nothing.
func (a *App) syncSources(ctx context.Context) error {
	cfg := a.config()
	a.sources.mu.Lock()
	defer a.sources.mu.Unlock()
	return a.adoptStoredLocked(ctx, cfg)
}

// adoptStoredLocked reads the stored runtime document and applies it when it is newer than the
// one held. The caller holds a.sources.mu.
func (a *App) adoptStoredLocked(ctx context.Context, cfg *config.Config) error {
	data, rev, err := a.conn.GetStateRev(ctx, runtimeFeedsKey)
	if err != nil {
		return fmt.Errorf("read runtime feeds: %w", err)
	}
	if data == nil && rev == 0 {
		// Absent or deleted: nothing to adopt, and the next change creates the key anew
		// (a write over the revision held would be refused for ever).
		a.sources.rev = 0
		return nil
	}
	if rev <= a.sources.rev {
		return nil
	}
	var doc runtimeFeeds
	if data == nil { // the value's object is gone (GetStateRev logged it)
		a.sources.rev = rev // the next change through this instance writes the feeds it holds
		return fmt.Errorf("runtime feeds lost (state key %s, revision %d), keeping the ones polled", runtimeFeedsKey, rev)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		a.sources.rev = rev // the same version would fail again; wait for the next
		return fmt.Errorf("runtime feeds unreadable (state key %s, revision %d), keeping the ones polled: %w", runtimeFeedsKey, rev, err)
	}
	// Held only once applied: a poller that refused the set is offered it again.
	if err := a.applyLocked(ctx, cfg, doc); err != nil {
		return fmt.Errorf("apply runtime feeds (revision %d): %w", rev, err)
	}
	a.sources.doc, a.sources.rev = doc, rev
	a.log.Info("runtime feeds changed through another instance", "component", "sources", "revision", rev, "runtime_feeds", len(doc.Feeds))
	return nil
}

// feedSet is the set to poll: the file's feeds, then the runtime ones whose id and URL the file
// does not use, with their pause flags.
func feedSet(cfg *config.Config, doc runtimeFeeds) []feeds.Feed {
	out := make([]feeds.Feed, 0, len(cfg.Feeds)+len(doc.Feeds))
	ids := map[string]bool{}
	urls := map[string]bool{}
	for _, f := range cfg.Feeds {
		out = append(out, feeds.Feed{ID: f.ID, URL: f.URL, Schedule: f.Schedule, Paused: slices.Contains(doc.Paused, f.ID)})
		ids[f.ID] = true
		urls[opml.URLKey(f.URL)] = true
	}
	for _, f := range doc.Feeds {
		if ids[f.ID] || urls[opml.URLKey(f.URL)] {
			continue
		}
		out = append(out, feeds.Feed{ID: f.ID, URL: f.URL, Schedule: f.Schedule, Paused: slices.Contains(doc.Paused, f.ID)})
	}
	return out
}

// storedTags is the tag lookup of a command that matches stored articles outside the daemon
// (backfill): the tags of the file's feeds and of the runtime feeds stored now, as a daemon on
// this store has them.
func storedTags(ctx context.Context, conn *events.Conn, cfg *config.Config) (matching.FeedTags, error) {
	doc, _, err := readRuntimeFeeds(ctx, conn)
	if err != nil {
		return nil, err
	}
	tags := polledTags(cfg, doc)
	return func(id string) []string { return tags[id] }, nil
}

// shadowed lists runtime feeds the file now declares (by id or URL), for a warning.
func shadowed(cfg *config.Config, doc runtimeFeeds) []string {
	set := feedSet(cfg, doc)
	var out []string
	for _, f := range doc.Feeds {
		if !slices.ContainsFunc(set, func(g feeds.Feed) bool { return g.ID == f.ID && g.URL == f.URL }) {
			out = append(out, f.ID)
		}
	}
	return out
}

// applyFeeds hands the current feed set to the poller.
func (a *App) applyFeeds(ctx context.Context) error {
	cfg := a.config()
	a.sources.mu.Lock()
	defer a.sources.mu.Unlock()
	return a.applyLocked(ctx, cfg, a.sources.doc)
}

func (a *App) applyLocked(ctx context.Context, cfg *config.Config, doc runtimeFeeds) error {
	if ids := shadowed(cfg, doc); len(ids) > 0 {
		a.log.Warn("runtime feeds left out: the config file now declares their id or URL", "component", "sources", "feeds", ids)
	}
	a.setPolled(cfg, doc)
	set := feedSet(cfg, doc)
	if err := a.poller.SetFeeds(ctx, set); err != nil {
		return err
	}
	a.setWebSubFeeds(set)
	return nil
}

// setPolled hands what the other parts need of the polled set to them: the full-text feeds to
// the full-text step, the feeds' tags to the matcher.
func (a *App) setPolled(cfg *config.Config, doc runtimeFeeds) {
	a.fullText.setFeeds(fullTextIDs(cfg, doc))
	tags := polledTags(cfg, doc)
	a.tags.Store(&tags)
}

// polledTags are the tags of the polled feeds: a file feed's from the file, a runtime feed's
// from the document (a runtime feed the file shadows has none of its own).
func polledTags(cfg *config.Config, doc runtimeFeeds) map[string][]string {
	out := map[string][]string{}
	file := make(map[string]bool, len(cfg.Feeds))
	for _, f := range cfg.Feeds {
		file[f.ID] = true
		if len(f.Tags) > 0 {
			out[f.ID] = slices.Clone(f.Tags)
		}
	}
	polled := map[string]string{} // id -> URL
	for _, f := range feedSet(cfg, doc) {
		polled[f.ID] = f.URL
	}
	for _, f := range doc.Feeds {
		if !file[f.ID] && len(f.Tags) > 0 && polled[f.ID] == f.URL {
			out[f.ID] = slices.Clone(f.Tags)
		}
	}
	return out
}

// feedTags is the matcher's tag lookup (matching.FeedTags): the tags a feed has now. The map
// is replaced whole each time the polled set changes, never written in place.
func (a *App) feedTags(feedID string) []string {
	if m := a.tags.Load(); m != nil {
		return (*m)[feedID]
	}
	return nil
}

// fullTextIDs are the polled feeds with full_text set, file or runtime.
func fullTextIDs(cfg *config.Config, doc runtimeFeeds) map[string]bool {
	polled := map[string]bool{}
	for _, f := range feedSet(cfg, doc) {
		polled[f.ID+"\x00"+f.URL] = true
	}
	ids := map[string]bool{}
	for _, f := range cfg.Feeds {
		if f.FullText {
			ids[f.ID] = true
		}
	}
	for _, f := range doc.Feeds {
		if f.FullText && polled[f.ID+"\x00"+f.URL] {
			ids[f.ID] = true
		}
	}
	return ids
}

// changeSources applies a change to the runtime document: it stores the new document, then
// hands the new feed set to the poller. When storing fails nothing changes.
//
// The write is conditional on the revision held (changeState), so two instances of a cluster
// changing the document at once cannot lose each other's change: the one that finds it
// changed adopts the stored version and makes its change again on it (change may run more
// than once).
func (a *App) changeSources(ctx context.Context, change func(cfg *config.Config, doc *runtimeFeeds) error) error {
	cfg := a.config()
	a.sources.mu.Lock()
	defer a.sources.mu.Unlock()
	var next runtimeFeeds
	rev, err := changeState(ctx, a.conn, runtimeFeedsKey, func() uint64 { return a.sources.rev },
		func() ([]byte, error) {
			next = runtimeFeeds{Feeds: slices.Clone(a.sources.doc.Feeds), Paused: slices.Clone(a.sources.doc.Paused)}
			if err := change(cfg, &next); err != nil {
				return nil, err
			}
			// Validate against the poller before storing, so a bad schedule is never persisted.
			if err := feeds.CheckFeeds(feedSet(cfg, next)); err != nil {
				return nil, err
			}
			data, err := json.Marshal(next)
			if err != nil {
				return nil, fmt.Errorf("store runtime feeds: %w", err)
			}
			return data, nil
		},
		func(ctx context.Context) error {
			if err := a.adoptStoredLocked(ctx, cfg); err != nil {
				return fmt.Errorf("store runtime feeds: %w", err)
			}
			return nil
		})
	if err != nil {
		return err
	}
	a.sources.doc, a.sources.rev = next, rev
	return a.applyLocked(ctx, cfg, next)
}

// feedOrigins says where a feed comes from: "file" or "runtime".
func feedOrigins(cfg *config.Config) func(id string) string {
	file := make(map[string]bool, len(cfg.Feeds))
	for _, f := range cfg.Feeds {
		file[f.ID] = true
	}
	return func(id string) string {
		if file[id] {
			return "file"
		}
		return "runtime"
	}
}
