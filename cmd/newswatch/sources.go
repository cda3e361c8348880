package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds"
	"github.com/newswatch/newswatch/feeds/opml"
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

// sourceSet holds the runtime document; mu serialises changes from their read to their
// application, so two API calls cannot lose each other's change.
type sourceSet struct {
	mu  sync.Mutex
	doc runtimeFeeds
}

// loadSources reads the runtime feeds at start.
func (a *App) loadSources(ctx context.Context) error {
	data, err := a.conn.GetState(ctx, runtimeFeedsKey)
	if err != nil {
		return fmt.Errorf("read runtime feeds: %w", err)
	}
	a.sources = &sourceSet{}
	if data == nil {
		return nil
	}
	if err := json.Unmarshal(data, &a.sources.doc); err != nil {
		return fmt.Errorf("read runtime feeds (state key %s): %w", runtimeFeedsKey, err)
	}
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
	a.fullText.setFeeds(fullTextIDs(cfg, doc))
	set := feedSet(cfg, doc)
	if err := a.poller.SetFeeds(ctx, set); err != nil {
		return err
	}
	a.setWebSubFeeds(set)
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
func (a *App) changeSources(ctx context.Context, change func(cfg *config.Config, doc *runtimeFeeds) error) error {
	cfg := a.config()
	a.sources.mu.Lock()
	defer a.sources.mu.Unlock()
	next := runtimeFeeds{Feeds: slices.Clone(a.sources.doc.Feeds), Paused: slices.Clone(a.sources.doc.Paused)}
	if err := change(cfg, &next); err != nil {
		return err
	}
	// Validate against the poller before storing, so a bad schedule is never persisted.
	if err := feeds.CheckFeeds(feedSet(cfg, next)); err != nil {
		return err
	}
	data, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("store runtime feeds: %w", err)
	}
	if err := a.conn.PutState(ctx, runtimeFeedsKey, data); err != nil {
		return fmt.Errorf("store runtime feeds: %w", err)
	}
	a.sources.doc = next
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
