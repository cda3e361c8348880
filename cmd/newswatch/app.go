package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/api"
	"github.com/newswatch/newswatch/cluster"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/feeds"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/newswatch/newswatch/feeds/websub"
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/projections/alertlog"
	"github.com/newswatch/newswatch/projections/feedhealth"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/newswatch/newswatch/projections/summaries"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Deps are what the App takes from its caller rather than making itself.
type Deps struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Version  string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxJitter overrides the poll jitter cap; tests set it to a tiny value.
	MaxJitter time.Duration
}

// App is one running newswatch: the NATS connection, the poller, the projections and the API.
type App struct {
	mu           sync.RWMutex // guards cfg, which a reload replaces
	cfg          *config.Config
	deps         Deps
	log          *slog.Logger
	conn         *events.Conn
	store        *events.Store
	poller       *feeds.Poller
	health       *feedhealth.Projection
	summaries    *summaries.Projection
	stories      *stories.Projection
	deriver      *matching.Deriver
	matcher      *events.Processor
	alertRun     *alerts.Runner
	spikeRun     *alerts.SpikeRunner
	digestRun    *alerts.DigestRunner
	silences     *alerts.Silences
	alertLog     *alertlog.Projection
	receivers    *receiverSet
	projectors   []*events.Projector
	httpSrv      *http.Server
	listener     net.Listener
	node         *cluster.Node  // nil without cluster mode
	sources      *sourceSet     // feeds added at run time (sources.go)
	fetcher      *fetch.Fetcher // shared by the poller, feed discovery and full text
	fullText     *fullTexter
	fullTextP    *events.Processor
	websub       *websub.Manager                     // nil unless websub.callback_base_url is set (websub.go)
	tags         atomic.Pointer[map[string][]string] // polled feed -> its tags (sources.go)
	apiSilences  apiSilences                         // revision of the stored API silences held
	followErrors *prometheus.CounterVec              // by state key (cluster.go)
}

// New connects to JetStream (starting the embedded server if configured), makes sure the
// streams exist and wires every component. Close releases what New acquired.
func New(ctx context.Context, cfg *config.Config, deps Deps) (_ *App, err error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	a := &App{cfg: cfg, deps: deps, log: deps.Logger}
	defer func() {
		if err != nil {
			a.Close() // a, not the result: every error return sets that to nil
		}
	}()
	m := newAppMetrics(deps.Registry, deps.Version)
	a.conn, err = events.Connect(ctx, connConfig(cfg), a.log.With("component", "nats"))
	if err != nil {
		return nil, err
	}
	m.registerConnected(a.conn)
	a.followErrors = m.followErrors
	for _, key := range []string{silenceStateKey, runtimeFeedsKey} {
		a.followErrors.WithLabelValues(key) // 0 from the start, with or without cluster mode
	}
	var id events.StoreIdentity
	err = retryUnavailable(ctx, a.log, "open the event store", func() error {
		if err := a.conn.EnsureStreams(ctx); err != nil {
			return err
		}
		id, err = a.conn.ClaimIdentity(ctx, storeIdentity(cfg, deps.Now))
		return err
	})
	if err != nil {
		return nil, err
	}
	a.log.Info("event store", "component", "nats", "store", a.conn.Where(), "created_by", id.String())
	if err := a.joinCluster(ctx, cfg); err != nil {
		return nil, err
	}
	a.store = events.NewStore(a.conn)
	a.health = feedhealth.New()
	a.summaries = summaries.New()
	a.stories = stories.New()
	a.deriver, err = matching.NewDeriver(topicList(cfg), a.feedTags, deps.Registry, deps.Now)
	if err != nil {
		return nil, err
	}
	a.matcher = a.conn.NewProcessor(events.ProcessorConfig{
		Name: "matches", In: events.ArticleStream,
		Out: events.MatchStream, OutSubjects: []string{events.MatchSubjectPrefix + "*"}, Handle: a.deriver.Handle,
		// Full-text events are article events too: a word only in the article's page matches.
		InSubjects: []string{events.ArticleSubjectPrefix + "*", events.FullTextSubjectPrefix + "*"},
	}, a.log)
	alertMetrics := alerts.NewMetrics(deps.Registry)
	a.silences = alerts.NewSilences(configSilences(cfg), deps.Now)
	if err := a.loadSilences(ctx); err != nil {
		return nil, err
	}
	a.alertLog = alertlog.New()
	storiesProj := a.conn.NewProjector(a.stories, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, a.log)
	a.projectors = []*events.Projector{
		a.conn.NewProjector(a.health, events.PollStream, []string{events.PollSubjectPrefix + "*"}, a.log),
		a.conn.NewProjector(a.summaries, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, a.log),
		storiesProj,
		a.conn.NewProjector(a.alertLog, events.AlertStream, []string{events.AlertSubjectPrefix + "*"}, a.log),
	}
	a.alertRun = alerts.NewRunner(a.conn, rulesFrom(cfg), a.silences, alertMetrics, a.log, deps.Now)
	a.alertRun.UseStories(&storyIndex{Projection: a.stories, proj: storiesProj, log: a.log.With("component", "alerts")})
	if a.spikeRun, err = alerts.NewSpikeRunner(a.conn, spikeRulesFrom(cfg), a.silences, alertMetrics, a.log, deps.Now); err != nil {
		return nil, err
	}
	storiesReady := func() bool {
		return (!a.holds(roleMatcher) || a.matcher.CaughtUp() && a.matcher.Lag() == 0) && storiesProj.CaughtUp() && storiesProj.Lag() == 0
	}
	if a.digestRun, err = alerts.NewDigestRunner(a.conn, a.stories, storiesReady, digestRulesFrom(cfg), a.silences, alertMetrics, a.log, deps.Now); err != nil {
		return nil, err
	}
	a.receivers = newReceiverSet(a.conn, cfg, deps, a.log)
	if a.node != nil {
		a.receivers.hold = a.holdDelivery
		for _, p := range a.projectors {
			p.SaveOnlyIf(func() bool { return a.holds(roleSnapshots) })
		}
	}
	m.registerLag(a.matcher)
	m.registerLag(a.alertRun)
	m.registerLag(a.spikeRun)
	for _, p := range a.projectors {
		m.registerLag(p)
	}
	m.registerStreams(a.conn)
	m.registerVolume(a)
	fetcher, err := newFetcher(cfg, deps.Version)
	if err != nil {
		return nil, err
	}
	a.fetcher = fetcher
	a.fullText = newFullTexter(fetcher, deps.Registry, deps.Now, a.log)
	a.fullTextP = a.conn.NewProcessor(events.ProcessorConfig{
		Name: "fulltext", In: events.ArticleStream, InSubjects: []string{events.ArticleSubjectPrefix + "*"},
		Out: events.ArticleStream, OutSubjects: []string{events.FullTextSubjectPrefix + "*"}, Handle: a.fullText.Handle,
	}, a.log)
	m.registerLag(a.fullTextP)
	if err := a.loadSources(ctx); err != nil {
		return nil, err
	}
	a.setPolled(cfg, a.sources.doc)
	if err := a.newWebSub(cfg); err != nil {
		return nil, err
	}
	owns, instance := a.feedOwnership()
	pollerOptions := feeds.Options{
		Feeds: feedSet(cfg, a.sources.doc), Fetcher: fetcher, Store: a.store,
		Registerer: deps.Registry, Logger: a.log, Now: deps.Now, MaxJitter: deps.MaxJitter,
		Workers: cfg.Ingest.Workers, FetchConcurrency: cfg.Ingest.FetchConcurrency,
		MaxBytesInFlight: cfg.Ingest.MaxBytesInFlight, MaxCommitPolls: cfg.Ingest.MaxCommitPolls,
		CommitLinger: cfg.Ingest.CommitLinger, Owns: owns, Instance: instance,
		MaxLiveHeap: maxLiveHeap(cfg, debug.SetMemoryLimit(-1)),
	}
	a.websubPollerOptions(cfg, &pollerOptions)
	a.poller, err = feeds.NewPoller(pollerOptions)
	if err != nil {
		return nil, err
	}
	a.setWebSubFeeds(pollerOptions.Feeds)
	if cfg.HTTP.Listen != "" {
		a.listener, err = net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			return nil, fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
		}
		guard := api.GuardConfig{Listen: cfg.HTTP.Listen, AllowedHosts: cfg.HTTP.AllowedHosts}
		handler, err := a.page(api.New(api.Options{
			Feeds: feedLister{a}, Topics: topicReader{a}, Alerts: a.alertLog, Silences: silenceStore{a}, Matches: matchExplainer{a},
			Stories: storyReader{a}, FeedManager: feedManager{a},
			Gatherer: deps.Registry, Ready: a.ready, Now: deps.Now, Token: cfg.HTTP.Token, Guard: guard,
			Logger: a.log.With("component", "api"),
		}))
		if err != nil {
			return nil, err
		}
		// The page's own routes pass the same Host and cross-site checks as the API's.
		a.httpSrv = &http.Server{Handler: a.withWebSub(api.Guard(guard, handler)), ReadHeaderTimeout: 10 * time.Second}
	}
	return a, nil
}

func connConfig(cfg *config.Config) events.ConnConfig {
	return events.ConnConfig{
		DataDir: cfg.DataDir, Listen: cfg.NATS.Listen, URL: cfg.NATS.URL,
		Creds: cfg.NATS.Creds, Token: cfg.NATS.Token, User: cfg.NATS.User, Password: cfg.NATS.Password,
		TLSCA: cfg.NATS.TLS.CA, TLSCert: cfg.NATS.TLS.Cert, TLSKey: cfg.NATS.TLS.Key,
		TLSServerName: cfg.NATS.TLS.ServerName, Replicas: cfg.NATS.Replicas, MaxStore: cfg.NATS.MaxStore, Name: "newswatch",
	}
}

func newFetcher(cfg *config.Config, version string) (*fetch.Fetcher, error) {
	var allow []netip.Prefix
	for _, s := range cfg.Fetch.AllowNetworks {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("fetch.allow_networks: %w", err)
		}
		allow = append(allow, p)
	}
	ua := cfg.Fetch.UserAgent
	if ua == "" {
		ua = fmt.Sprintf("newswatch/%s (+https://github.com/newswatch/newswatch)", version)
	}
	return fetch.New(fetch.Config{
		Timeout: cfg.Fetch.Timeout, MaxBodyBytes: cfg.Fetch.MaxBodyBytes,
		PerHostConcurrency: cfg.Fetch.PerHostConcurrency, UserAgent: ua,
		AllowPrivateNetworks: cfg.Fetch.AllowPrivateNetworks, AllowNetworks: allow,
	}), nil
}

func feedList(cfg *config.Config) []feeds.Feed {
	out := make([]feeds.Feed, len(cfg.Feeds))
	for i, f := range cfg.Feeds {
		out[i] = feeds.Feed{ID: f.ID, URL: f.URL, Schedule: f.Schedule}
	}
	return out
}

func (a *App) config() *config.Config {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.cfg
}

type feedLister struct{ a *App }

func (l feedLister) List() []feedhealth.Feed {
	set := l.a.poller.Feeds()
	conf := make([]feedhealth.Feed, len(set))
	for i, f := range set {
		conf[i] = feedhealth.Feed{ID: f.ID, URL: f.URL}
	}
	out := l.a.health.List(conf)
	origin := feedOrigins(l.a.config())
	for i := range out {
		out[i].Origin, out[i].Paused = origin(out[i].ID), set[i].Paused
		out[i].Push = l.a.pushState(out[i].ID)
	}
	return out
}

// topicReader serves topic summaries for the configured topics.
type topicReader struct{ a *App }

func (r topicReader) List() []api.TopicInfo {
	cfg := r.a.config()
	out := make([]api.TopicInfo, len(cfg.Topics))
	for i, t := range cfg.Topics {
		out[i] = api.TopicInfo{ID: t.ID, Name: t.Name, ArticleCount: r.a.summaries.Count(t.ID)}
	}
	return out
}

func (r topicReader) Get(id string) (summaries.Summary, bool) {
	for _, t := range r.a.config().Topics {
		if t.ID == id {
			now := r.a.deps.Now()
			s := r.a.summaries.Get(t.ID, t.Name, now)
			s.Stories = r.a.stories.Stories(t.ID, 20)
			s.Trending = r.a.stories.Trending(t.ID, now, 10)
			s.Volume = r.a.spikeRun.Volume(t.ID)
			return s, true
		}
	}
	return summaries.Summary{}, false
}

// Reload applies a new configuration's feeds, topics, alert rules, silences and receivers
// without a restart. Changes to anything else need a restart and are reported as such.
func (a *App) Reload(cfg *config.Config) error {
	if err := a.deriver.Update(topicList(cfg)); err != nil {
		return err
	}
	if err := a.spikeRun.SetRules(spikeRulesFrom(cfg)); err != nil {
		return err
	}
	if err := a.digestRun.SetRules(digestRulesFrom(cfg)); err != nil {
		return err
	}
	a.alertRun.SetRules(rulesFrom(cfg))
	a.silences.SetConfig(configSilences(cfg))
	a.receivers.update(cfg.Notify)
	a.mu.Lock()
	old := a.cfg
	merged := *old
	merged.Topics, merged.Alerts, merged.Silences, merged.Notify = cfg.Topics, cfg.Alerts, cfg.Silences, cfg.Notify
	merged.Feeds = cfg.Feeds
	a.cfg = &merged
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.applyFeeds(ctx); err != nil {
		return fmt.Errorf("apply feeds: %w", err)
	}
	if pending := needsRestart(old, cfg); len(pending) > 0 {
		a.log.Warn("config reload: these changes take effect after a restart; topics, alert rules, silences and receivers were reloaded",
			"sections", pending)
	}
	a.log.Info("config reloaded", "topics", len(cfg.Topics), "alert_rules", len(cfg.Alerts))
	return nil
}

// needsRestart names the config sections that differ and that a reload does not apply.
func needsRestart(a, b *config.Config) []string {
	var out []string
	for name, same := range map[string]bool{
		"nats":     a.NATS == b.NATS,
		"http":     reflect.DeepEqual(a.HTTP, b.HTTP),
		"fetch":    reflect.DeepEqual(a.Fetch, b.Fetch),
		"data_dir": a.DataDir == b.DataDir,
		"log":      a.Log == b.Log,
		"cluster":  a.Cluster == b.Cluster,
		"websub":   a.WebSub == b.WebSub,
	} {
		if !same {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// ready is the readiness check: NATS connected, streams present, projections caught up.
func (a *App) ready(ctx context.Context) error {
	if !a.conn.Connected() {
		return errors.New("NATS not connected")
	}
	if err := a.conn.StreamsPresent(ctx); err != nil {
		return err
	}
	if err := a.conn.WriteError(); err != nil {
		return fmt.Errorf("writes fail: %w", err)
	}
	if a.holds(roleMatcher) && !a.matcher.CaughtUp() {
		return fmt.Errorf("topic matcher catching up (%d articles behind)", a.matcher.Lag())
	}
	for _, p := range a.projectors {
		if !p.CaughtUp() {
			return fmt.Errorf("projection %s catching up (%d events behind)", p.Name(), p.Lag())
		}
	}
	return nil
}

// HTTPAddr is the API's bound address ("" when the API is disabled).
func (a *App) HTTPAddr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Run runs every component until ctx ends, then shuts them down in order: polls drain, the
// projections save their snapshots, the API stops.
func (a *App) Run(ctx context.Context) error {
	if url := a.conn.ClientURL(); url != "" {
		a.log.Info("embedded NATS listening", "component", "nats", "url", url)
	}
	if err := a.poller.Restore(ctx); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	a.runCluster(gctx, g.Go)
	a.joined(gctx)
	g.Go(func() error { return a.poller.Run(gctx) })
	g.Go(func() error { return a.role(roleMatcher, a.matcher.Run)(gctx) })
	g.Go(func() error { return a.role(roleAlerts, a.alertRun.Run)(gctx) })
	g.Go(func() error { return a.role(roleSpikes, a.spikeRun.Run)(gctx) })
	g.Go(func() error {
		return a.role(roleFullText, func(ctx context.Context) error { return a.fullText.runFullText(ctx, a.fullTextP) })(gctx)
	})
	g.Go(func() error { return a.role(roleDigests, a.digestRun.Run)(gctx) })
	g.Go(func() error { return a.receivers.run(gctx) })
	if a.websub != nil {
		g.Go(func() error { return a.websub.Run(gctx) })
	}
	for _, p := range a.projectors {
		g.Go(func() error { return p.Run(gctx) })
	}
	if a.httpSrv != nil {
		a.log.Info("API listening", "component", "api", "addr", a.HTTPAddr())
		g.Go(func() error {
			if err := a.httpSrv.Serve(a.listener); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 5*time.Second)
			defer cancel()
			return a.httpSrv.Shutdown(sctx)
		})
	}
	a.log.Info("newswatch running", "feeds", len(a.cfg.Feeds), "topics", len(a.cfg.Topics), "data_dir", a.cfg.DataDir)
	return g.Wait()
}

// Close releases the NATS connection and stops the embedded server.
func (a *App) Close() {
	if a.listener != nil && a.httpSrv == nil {
		_ = a.listener.Close()
	}
	if a.conn != nil {
		a.conn.Close()
	}
}
