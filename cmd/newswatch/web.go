package main

import (
	"net/http"

	"github.com/newswatch/newswatch/web"
)

// page puts the analyst's page (web) in front of the API: the page's paths are its own,
// every other path goes to the API.
func (a *App) page(apiHandler http.Handler) (http.Handler, error) {
	return web.New(web.Options{
		Config: a.config, Summaries: a.summaries, Stories: a.stories, Volume: a.spikeRun, Alerts: a.alertLog,
		Feeds: feedLister{a}, Silences: silenceStore{a}, Articles: a.conn, FeedTags: a.feedTags, Gatherer: a.deps.Registry,
		API: apiHandler, PollNow: true, Now: a.deps.Now, Logger: a.log.With("component", "web"),
	})
}
