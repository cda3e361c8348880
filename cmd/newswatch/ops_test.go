package main

// Tests for deploy/: the Grafana dashboard and the Prometheus rules are checked against what a
// real App exports, the rules run under a pinned promtool, and the Dockerfile, compose file,
// Kubernetes manifests and systemd unit are checked with whatever this machine can run.

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// deployDir is the repository's deploy/ folder, seen from this package.
const deployDir = "../../deploy"

func deployPath(parts ...string) string {
	return filepath.Join(append([]string{deployDir}, parts...)...)
}

func readDeploy(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(deployPath(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- the live instance ----

// startOpsApp runs an App whose feeds and receivers produce every poll result and every
// delivery result, and returns it with the body of GET /metrics once all of them happened.
func startOpsApp(t *testing.T) (*running, []byte) {
	t.Helper()
	fs := newFeedServer(t)
	fs.set("/wire.xml", rss("Wire", item{wireTitle, "https://wire.example.com/kursk", wireSummary}))
	fs.set("/blog.xml", "this is not a feed") // parse_error; /paper.xml is a 404: http_error
	good := newHookReceiver(t)
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "receiver removed", http.StatusGone) // permanent: dead-lettered
	}))
	t.Cleanup(gone.Close)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable) // retried
	}))
	t.Cleanup(flaky.Close)
	extra := fmt.Sprintf(`  - {id: down, url: "http://127.0.0.1:1/feed.xml", schedule: "@every 1h"}
  - {id: metadata, url: "http://169.254.169.254/latest/meta-data/", schedule: "@every 1h"}
%salerts:
  - {topic: dprk-russia, kind: match}
notify:
  - {name: ops-good, type: webhook, url: "%s/hook", secret: "%s", max_age: 1h}
  - {name: ops-gone, type: webhook, url: "%s/hook", secret: "x", max_age: 1h}
  - {name: ops-flaky, type: webhook, url: "%s/hook", secret: "x", max_age: 1h}
websub: {callback_base_url: "https://news.example.org"}
`, topicsYAML, good.srv.URL, hookSecret, gone.URL, flaky.URL)
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, extra))
	r.waitPolled(t, 1, "wire", "paper", "blog", "down", "metadata")
	pollNow(t, r, "wire", "not_modified")
	// A second poll with something new gives the feed a cadence.
	fs.set("/wire.xml", rss("Wire", item{wireTitle, "https://wire.example.com/kursk", wireSummary},
		item{"Weather in Seoul", "https://wire.example.com/weather", "Cold."}))
	pollNow(t, r, "wire", "ok")
	good.waitFor(t, 1)
	// A feed that worked and now fails needs attention: only such feeds export their own
	// last-success, last-new-article and cadence series.
	fs.set("/wire.xml", "this is not a feed")
	pollNow(t, r, "wire", "parse_error")
	for _, want := range []map[string]string{
		{"receiver": "ops-gone", "result": "dead_lettered"},
		{"receiver": "ops-flaky", "result": "retry"},
	} {
		deadline := time.Now().Add(20 * time.Second)
		for r.metric(t, "newswatch_alert_deliveries_total", want) < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("no delivery with %v", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	resp, err := http.Get("http://" + r.app.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s, %v", resp.Status, err)
	}
	return r, body
}

// series is one selectable series name of a live scrape: its label names and the values seen.
type series map[string]map[string]bool

// exported maps every series name a query can select (histograms as _bucket, _sum and _count)
// to its labels. job and instance, which Prometheus adds to every target, are on all of them.
type exported map[string]series

func parseExported(t *testing.T, body []byte) (exported, []*dto.MetricFamily) {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	ex := exported{}
	var mfs []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parse /metrics: %v", err)
		}
		mfs = append(mfs, mf)
		name := mf.GetName()
		names := map[string]string{name: ""} // series name → its extra label
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM:
			names = map[string]string{name + "_bucket": "le", name + "_sum": "", name + "_count": ""}
		case dto.MetricType_SUMMARY:
			names = map[string]string{name: "quantile", name + "_sum": "", name + "_count": ""}
		}
		for n, extra := range names {
			s := series{"job": {}, "instance": {}}
			if extra != "" {
				s[extra] = map[string]bool{}
			}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if s[lp.GetName()] == nil {
						s[lp.GetName()] = map[string]bool{}
					}
					s[lp.GetName()][lp.GetValue()] = true
				}
			}
			ex[n] = s
		}
	}
	return ex, mfs
}

func TestOpsLiveMetrics(t *testing.T) {
	r, body := startOpsApp(t)
	ex, mfs := parseExported(t, body)

	t.Run("promtool_check_metrics", func(t *testing.T) {
		// promlint is what `promtool check metrics` runs.
		problems, err := promlint.New(bytes.NewReader(body)).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	})

	t.Run("documented", func(t *testing.T) {
		checkMetricsDocumented(t, mfs)
	})

	t.Run("dashboard_queries", func(t *testing.T) {
		for _, q := range dashboardQueries(t) {
			for _, p := range checkQuery(ex, q.expr, q.vars) {
				t.Errorf("%s: %s\n    %s", q.where, p, q.expr)
			}
		}
	})

	t.Run("rule_queries", func(t *testing.T) {
		for _, rule := range loadRules(t) {
			for _, p := range checkQuery(ex, rule.Expr, nil) {
				t.Errorf("alert %s: %s\n    %s", rule.Alert, p, rule.Expr)
			}
		}
	})

	t.Run("probe_paths", func(t *testing.T) {
		// Every probe in the Kubernetes manifests answers 200 on a running App.
		paths := map[string]bool{}
		for _, w := range loadWorkloads(t) {
			for _, p := range w.container.probes() {
				paths[p.HTTPGet.Path] = true
			}
		}
		if !paths["/healthz"] || !paths["/readyz"] {
			t.Fatalf("probe paths %v, want /healthz and /readyz", paths)
		}
		for path := range paths {
			deadline := time.Now().Add(15 * time.Second)
			for {
				resp, err := http.Get("http://" + r.app.HTTPAddr() + path)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("GET %s never answered 200 (last: %v, %v)", path, resp, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})
}

// checkMetricsDocumented keeps docs/operations.md's metric table and the daemon in step: each
// documented metric is exported with exactly the documented labels, and each exported
// newswatch_ metric is documented.
func checkMetricsDocumented(t *testing.T, mfs []*dto.MetricFamily) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	re := regexp.MustCompile("`(newswatch_[a-z_]+)(?:\\{([a-z_,]*)\\})?`")
	for line := range strings.SplitSeq(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `newswatch_") {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(strings.SplitN(line, "|", 3)[1], -1) {
			var labels []string
			if m[2] != "" {
				labels = strings.Split(m[2], ",")
			}
			slices.Sort(labels)
			documented[m[1]] = labels
		}
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "newswatch_") {
			continue
		}
		want, ok := documented[name]
		if !ok {
			t.Errorf("%s is exported but not in the metrics table of docs/operations.md", name)
			continue
		}
		delete(documented, name)
		var got []string
		if len(mf.GetMetric()) > 0 {
			for _, lp := range mf.GetMetric()[0].GetLabel() {
				got = append(got, lp.GetName())
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s has labels %v; docs/operations.md says %v", name, got, want)
		}
	}
	for name := range documented {
		t.Errorf("docs/operations.md documents %s, which the daemon does not export", name)
	}
}

// ---- PromQL ----

// grafanaVar matches a dashboard variable reference: $name, ${name}, ${name:fmt} or [[name]].
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

// grafanaIntervals are Grafana's built-in range variables, replaced by a typical value.
var grafanaIntervals = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1d"}

// varValue is what a dashboard variable is replaced with before parsing: a literal that a
// check can recognise as "filtered by the variable".
func varValue(name string) string { return "VAR_" + name }

// prometheusSeries are series Prometheus makes itself for every target.
var prometheusSeries = map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true}

// checkQuery parses expr with Prometheus's parser and checks it against a live scrape: every
// metric is exported, every label matched or grouped by exists on it, every label value an
// equality or alternation matches was seen. vars are the dashboard's variables: each must be
// defined, and a selector of a series that has a variable's label must filter by it.
func checkQuery(ex exported, expr string, vars map[string]bool) []string {
	var problems []string
	for _, m := range grafanaVar.FindAllStringSubmatch(expr, -1) {
		name := m[1] + m[2] + m[3]
		if _, ok := grafanaIntervals[name]; !ok && !vars[name] {
			problems = append(problems, fmt.Sprintf("unknown dashboard variable %q", name))
		}
	}
	expanded := grafanaVar.ReplaceAllStringFunc(expr, func(s string) string {
		m := grafanaVar.FindStringSubmatch(s)
		name := m[1] + m[2] + m[3]
		if v, ok := grafanaIntervals[name]; ok {
			return v
		}
		return varValue(name)
	})
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expanded)
	if err != nil {
		return append(problems, "does not parse: "+err.Error())
	}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			problems = append(problems, checkSelector(ex, n, vars)...)
		case *parser.AggregateExpr:
			problems = append(problems, checkGrouping(ex, n)...)
		}
		return nil
	})
	return problems
}

func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" && m.Type.String() == "=" {
			return m.Value
		}
	}
	return ""
}

// alternation is a regexp that only lists literal values: ok|not_modified.
var alternation = regexp.MustCompile(`^[A-Za-z0-9_.:-]+(\|[A-Za-z0-9_.:-]+)*$`)

func checkSelector(ex exported, vs *parser.VectorSelector, vars map[string]bool) []string {
	name := selectorName(vs)
	if name == "" {
		return []string{fmt.Sprintf("selector %s has no metric name", vs)}
	}
	if prometheusSeries[name] {
		return nil
	}
	s, ok := ex[name]
	if !ok {
		return []string{fmt.Sprintf("metric %s is not exported by the daemon", name)}
	}
	var problems []string
	filtered := map[string]bool{}
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" {
			continue
		}
		values, ok := s[m.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s has no label %q", name, m.Name))
			continue
		}
		if v, isVar := strings.CutPrefix(m.Value, "VAR_"); isVar {
			filtered[v] = m.Name == v
			continue
		}
		if m.Name == "job" || m.Name == "instance" || m.Value == "" {
			continue
		}
		literal := m.Type.String() == "=" || m.Type.String() == "!="
		if !literal && !alternation.MatchString(m.Value) {
			continue
		}
		for v := range strings.SplitSeq(m.Value, "|") {
			if !values[v] {
				problems = append(problems, fmt.Sprintf("%s{%s=%q}: no such value in a live scrape", name, m.Name, v))
			}
		}
	}
	for v := range vars {
		if _, has := s[v]; has && !filtered[v] {
			problems = append(problems, fmt.Sprintf("%s has label %q but the selector does not filter by $%s", name, v, v))
		}
	}
	return problems
}

// checkGrouping checks that `by (...)` labels exist on some series the aggregation reads.
func checkGrouping(ex exported, a *parser.AggregateExpr) []string {
	if a.Without || len(a.Grouping) == 0 {
		return nil
	}
	have := map[string]bool{}
	parser.Inspect(a.Expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if prometheusSeries[selectorName(vs)] {
				have["job"], have["instance"] = true, true
			}
			for l := range ex[selectorName(vs)] {
				have[l] = true
			}
		}
		return nil
	})
	var problems []string
	for _, l := range a.Grouping {
		if !have[l] {
			problems = append(problems, fmt.Sprintf("grouping by %q, which none of its metrics has", l))
		}
	}
	return problems
}

// ---- the dashboard ----

type dashboardQuery struct {
	where, expr string
	vars        map[string]bool
}

type dashboard struct {
	UID        string            `json:"uid"`
	Title      string            `json:"title"`
	Panels     []json.RawMessage `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource json.RawMessage `json:"datasource"`
			IncludeAll bool            `json:"includeAll"`
			AllValue   string          `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource json.RawMessage          `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Panels     []json.RawMessage        `json:"panels"`
	Targets    []struct {
		RefID      string          `json:"refId"`
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) (dashboard, []panel) {
	t.Helper()
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(readDeploy(t, "grafana", "newswatch.json")))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("deploy/grafana/newswatch.json: %v", err)
	}
	var panels []panel
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("panel: %v", err)
			}
			panels = append(panels, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return d, panels
}

// labelValuesQuery is a Grafana variable query: label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$`)

// dashboardQueries returns every PromQL expression of the dashboard: panel targets, and the
// selectors of variable queries (as count by (label) (selector), which uses the label the
// same way).
func dashboardQueries(t *testing.T) []dashboardQuery {
	t.Helper()
	d, panels := loadDashboard(t)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	var out []dashboardQuery
	for i, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			if err := json.Unmarshal(v.Query, &q.Query); err != nil {
				t.Fatalf("variable %s: query is neither a string nor {query}: %s", v.Name, v.Query)
			}
		}
		m := labelValuesQuery.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q.Query)
			continue
		}
		// Only the variables defined before this one may be used in its query.
		before := map[string]bool{}
		for _, w := range d.Templating.List[:i] {
			before[w.Name] = true
		}
		out = append(out, dashboardQuery{"variable " + v.Name, fmt.Sprintf("count by (%s) (%s)", m[2], m[1]), before})
	}
	for _, p := range panels {
		for _, tg := range p.Targets {
			out = append(out, dashboardQuery{fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), tg.Expr, vars})
		}
	}
	return out
}

// isDSVariable reports whether a panel's or query's datasource is the DS_PROMETHEUS variable,
// so that the dashboard works with whatever Prometheus data source it is imported into.
func isDSVariable(raw json.RawMessage) bool {
	var ds struct{ Type, UID string }
	return json.Unmarshal(raw, &ds) == nil && ds.Type == "prometheus" && ds.UID == "${DS_PROMETHEUS}"
}

func TestDashboardStructure(t *testing.T) {
	d, panels := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed for provisioning and links", d.UID, d.Title)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type == "query" {
			if !isDSVariable(v.Datasource) {
				t.Errorf("variable %s: datasource %s, want the DS_PROMETHEUS variable", v.Name, v.Datasource)
			}
			if !v.IncludeAll || v.AllValue != ".*" {
				t.Errorf("variable %s: want includeAll with allValue .* (so All also matches series without the label value yet)", v.Name)
			}
		}
	}
	if vars["DS_PROMETHEUS"] != "datasource" {
		t.Errorf("no datasource variable DS_PROMETHEUS: %v", vars)
	}
	for _, name := range []string{"job", "instance", "feed", "topic"} {
		if vars[name] != "query" {
			t.Errorf("no query variable %q: %v", name, vars)
		}
	}
	ids := map[int]string{}
	queries := 0
	for _, p := range panels {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if !isDSVariable(p.Datasource) {
			t.Errorf("panel %q: datasource %s, want the DS_PROMETHEUS variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			if !isDSVariable(tg.Datasource) || tg.Expr == "" {
				t.Errorf("panel %q query %s: datasource %s, expr %q", p.Title, tg.RefID, tg.Datasource, tg.Expr)
			}
		}
	}
	for i, a := range panels {
		for _, b := range panels[i+1:] {
			ga, gb := a.GridPos, b.GridPos
			if ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H {
				t.Errorf("panels %q and %q overlap", a.Title, b.Title)
			}
		}
	}
	// The brief of the dashboard: each area has a panel reading its metric.
	all := ""
	for _, q := range dashboardQueries(t) {
		all += q.expr + "\n"
	}
	for _, m := range []string{
		"newswatch_feed_polls_total", "newswatch_feeds", "newswatch_feed_consecutive_failures", "newswatch_feed_last_success_timestamp_seconds",
		"newswatch_articles_published_total", "newswatch_articles_duplicate_total", "newswatch_topic_matches_total",
		"newswatch_alerts_fired_total", "newswatch_alert_deliveries_total", "newswatch_alert_delivery_duration_seconds_bucket",
		"newswatch_projection_lag_events", "newswatch_stream_bytes", "newswatch_nats_connected",
	} {
		if !strings.Contains(all, m) {
			t.Errorf("no dashboard query reads %s", m)
		}
	}
	if queries < 20 {
		t.Errorf("only %d queries", queries)
	}
}

// ---- alert rules ----

const (
	rulesFile     = "newswatch.rules.yml"
	rulesTestFile = "newswatch.rules.test.yml"
)

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []alertRule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(readDeploy(t, "prometheus", "rules", rulesFile)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatal("no rules")
	}
	return out
}

type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name  string `yaml:"name"`
		Cases []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func TestRulesStructure(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for line := range strings.SplitSeq(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "#### "); ok {
			headings[strings.ToLower(strings.TrimSpace(h))] = true
		}
	}
	rules := loadRules(t)
	names := map[string]bool{}
	for _, r := range rules {
		if r.Alert == "" {
			t.Errorf("recording rule %q: this file holds alerts only", r.Record)
			continue
		}
		if names[r.Alert] || !strings.HasPrefix(r.Alert, "Newswatch") {
			t.Errorf("alert %s: duplicate, or not named Newswatch*", r.Alert)
		}
		names[r.Alert] = true
		if d, err := time.ParseDuration(r.For); err != nil || d <= 0 {
			t.Errorf("alert %s: for %q, want a positive duration", r.Alert, r.For)
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
			t.Errorf("alert %s: severity %q, want critical, warning or info", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("alert %s: no %s annotation", r.Alert, a)
			}
		}
		anchor := strings.ToLower(r.Alert)
		if want := "https://github.com/newswatch/newswatch/blob/main/docs/operations.md#" + anchor; r.Annotations["runbook_url"] != want {
			t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
		if !headings[anchor] {
			t.Errorf("alert %s: docs/operations.md has no runbook heading \"#### %s\"", r.Alert, r.Alert)
		}
	}

	var tests ruleTests
	if err := yaml.Unmarshal(readDeploy(t, "prometheus", "rules", rulesTestFile), &tests); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tests.RuleFiles, []string{rulesFile}) {
		t.Errorf("%s tests rule_files %v, want [%s]", rulesTestFile, tests.RuleFiles, rulesFile)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, g := range tests.Tests {
		prefix, _, _ := strings.Cut(g.Name, ":")
		for _, c := range g.Cases {
			if c.Alertname != prefix {
				t.Errorf("test group %q checks %s: name each group after the one alert it tests", g.Name, c.Alertname)
			}
			if len(c.ExpAlerts) > 0 {
				fires[c.Alertname] = true
			} else {
				quiet[c.Alertname] = true
			}
		}
	}
	for name := range names {
		if !fires[name] || !quiet[name] {
			t.Errorf("alert %s: tested firing %v, tested not firing %v; want both", name, fires[name], quiet[name])
		}
	}

	// The scrape config loads this rule file (and not its tests) and has the job NewswatchDown watches.
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(readDeploy(t, "prometheus", "prometheus.yml"), &prom); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prom.RuleFiles, []string{"rules/" + rulesFile}) {
		t.Errorf("prometheus.yml rule_files %v, want [rules/%s]", prom.RuleFiles, rulesFile)
	}
	if !slices.ContainsFunc(prom.ScrapeConfigs, func(s struct {
		JobName string `yaml:"job_name"`
	}) bool {
		return s.JobName == "newswatch"
	}) {
		t.Error(`prometheus.yml has no job "newswatch"`)
	}
}

// promtoolVersion is the Prometheus release whose promtool the tests run: the version of
// github.com/prometheus/prometheus in deploy/tools/go.mod (v0.315.1 is Prometheus v3.15.1).
func promtoolVersion(t *testing.T) (module, release string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/prometheus (v0\.(\d+)(\d\d)\.(\d+))\b`).
		FindStringSubmatch(string(readDeploy(t, "tools", "go.mod")))
	if m == nil {
		t.Fatal("deploy/tools/go.mod does not require github.com/prometheus/prometheus")
	}
	return m[1], fmt.Sprintf("v%s.%s.%s", m[2], strings.TrimPrefix(m[3], "0"), m[4])
}

// buildPromtool returns promtool built from the version pinned in deploy/tools/go.mod
// (checksums in deploy/tools/go.sum); TestMain started the build (toolbuild_test.go).
func buildPromtool(t *testing.T) string {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("promtool ready after waiting %v", time.Since(start).Round(time.Millisecond)) }()
	return toolBinary(t, "promtool")
}

func runPromtool(t *testing.T, promtool, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestRulesPromtool(t *testing.T) {
	promtool := buildPromtool(t)
	module, _ := promtoolVersion(t)
	bi, err := buildinfo.ReadFile(promtool)
	if err != nil {
		t.Fatal(err)
	}
	// The module holding package main is bi.Main, not one of bi.Deps.
	if !slices.ContainsFunc(append(bi.Deps, &bi.Main), func(m *debug.Module) bool {
		return m.Path == "github.com/prometheus/prometheus" && m.Version == module
	}) {
		t.Fatalf("promtool was not built from github.com/prometheus/prometheus %s: %v", module, bi)
	}
	promDir, _ := filepath.Abs(deployPath("prometheus"))
	rulesDir := filepath.Join(promDir, "rules")
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", filepath.Join("rules", rulesFile)},
		{"test", "rules", filepath.Join("rules", rulesTestFile)},
	} {
		if out, err := runPromtool(t, promtool, promDir, args...); err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// Break each rule two ways in a copy; its tests must notice.
	rules, err := os.ReadFile(filepath.Join(rulesDir, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(rulesDir, rulesTestFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("broken", func(t *testing.T) {
		for _, rule := range loadRules(t) {
			for _, m := range []struct {
				name string
				set  map[string]string
			}{
				{"never_fires", map[string]string{"expr": "vector(1) < 0"}},
				{"no_for", map[string]string{"for": "0s"}},
			} {
				t.Run(rule.Alert+"/"+m.name, func(t *testing.T) {
					t.Parallel()
					dir := t.TempDir()
					writeFile := func(name string, b []byte) {
						if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
							t.Fatal(err)
						}
					}
					writeFile(rulesTestFile, tests)
					run := []string{"test", "rules", "--run", "^" + rule.Alert + ":", rulesTestFile}
					writeFile(rulesFile, rules)
					if out, err := runPromtool(t, promtool, dir, run...); err != nil {
						t.Fatalf("the unbroken copy fails: %v\n%s", err, out)
					}
					writeFile(rulesFile, mutateRule(t, rules, rule.Alert, m.set))
					out, err := runPromtool(t, promtool, dir, run...)
					var exit *exec.ExitError
					if !errors.As(err, &exit) || !strings.Contains(out, "FAILED") {
						t.Errorf("promtool test rules passed with %s's %v: its tests do not catch that (%v)\n%s", rule.Alert, m.set, err, out)
					}
				})
			}
		}
	})
}

// mutateRule returns the rule file with the given keys of one alert replaced.
func mutateRule(t *testing.T, rules []byte, alert string, set map[string]string) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "alert" && n.Content[i+1].Value == alert {
					found = true
					for j := 0; j+1 < len(n.Content); j += 2 {
						if v, ok := set[n.Content[j].Value]; ok {
							n.Content[j+1].Value, n.Content[j+1].Style = v, yaml.DoubleQuotedStyle
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(&doc)
	if !found {
		t.Fatalf("no alert %s", alert)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ---- deploy files ----

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct{ cmd, args string }

func parseDockerfile(t *testing.T) []dockerInstr {
	t.Helper()
	var out []dockerInstr
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(readDeploy(t, "Dockerfile")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// jsonArgs parses an exec-form instruction argument: ["a", "b"].
func jsonArgs(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%s: want the exec form [\"...\"]: %v", s, err)
	}
	return out
}

// parseConfig parses a newswatch config embedded in a deploy file, as `newswatch check` would.
func parseConfig(t *testing.T, data []byte, name string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(data, name)
	if err != nil {
		t.Fatalf("%s is not a valid newswatch config:\n%v", name, err)
	}
	return cfg
}

func listenPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return port
}

func TestOpsDockerfile(t *testing.T) {
	instrs := parseDockerfile(t)
	var froms []string
	final := map[string][]string{} // instructions of the last stage
	for _, in := range instrs {
		if in.cmd == "FROM" {
			froms = append(froms, in.args)
			final = map[string][]string{}
		}
		final[in.cmd] = append(final[in.cmd], in.args)
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:") || !strings.Contains(froms[len(froms)-1], "distroless/static") {
		t.Errorf("stages %v: want a golang build stage and a distroless/static final stage", froms)
	}
	build := ""
	for _, in := range instrs {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/newswatch", "-X main.version="} {
		if !strings.Contains(build, want) {
			t.Errorf("the go build step %q lacks %s", build, want)
		}
	}
	if u := final["USER"]; len(u) != 1 || u[0] == "root" || strings.HasPrefix(u[0], "0") {
		t.Errorf("final stage USER %v: want one non-root user", u)
	}
	if v := final["VOLUME"]; len(v) != 1 || !slices.Equal(jsonArgs(t, v[0]), []string{"/data"}) {
		t.Errorf("final stage VOLUME %v, want [\"/data\"]", v)
	}
	if len(final["ENTRYPOINT"]) != 1 || len(final["CMD"]) != 1 {
		t.Fatalf("final stage: want one ENTRYPOINT and one CMD, have %v and %v", final["ENTRYPOINT"], final["CMD"])
	}
	argv := append(jsonArgs(t, final["ENTRYPOINT"][0]), jsonArgs(t, final["CMD"][0])...)
	if want := []string{"/usr/local/bin/newswatch", "run", "--config", "/etc/newswatch/newswatch.yaml"}; !slices.Equal(argv, want) {
		t.Errorf("the image runs %v, want %v", argv, want)
	}
	// The baked-in config: copied from the repository, valid, and matching the volume and port.
	var src string
	for _, c := range final["COPY"] {
		if f := strings.Fields(c); len(f) == 2 && f[1] == "/etc/newswatch/newswatch.yaml" {
			src = f[0]
		}
	}
	if src == "" {
		t.Fatal("the final stage copies no config to /etc/newswatch/newswatch.yaml")
	}
	data, err := os.ReadFile(filepath.Join("../..", src))
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, data, src)
	if cfg.DataDir != "/data" || cfg.NATS.URL != "" {
		t.Errorf("%s: data_dir %q, nats.url %q; want /data and the embedded server", src, cfg.DataDir, cfg.NATS.URL)
	}
	if port := listenPort(t, cfg.HTTP.Listen); !slices.Equal(final["EXPOSE"], []string{port}) || strings.HasPrefix(cfg.HTTP.Listen, "127.") {
		t.Errorf("%s listens on %q; the image exposes %v", src, cfg.HTTP.Listen, final["EXPOSE"])
	}
	if ignore := string(readDeploy(t, "Dockerfile.dockerignore")); regexp.MustCompile(`(?m)^(go\.(mod|sum)|cmd|deploy|deploy/docker)/?$`).MatchString(ignore) {
		t.Errorf("Dockerfile.dockerignore leaves out what the build needs:\n%s", ignore)
	}

	t.Run("static_binary", func(t *testing.T) {
		// Build as the Dockerfile does and check the result needs no dynamic loader.
		bin := filepath.Join(t.TempDir(), "newswatch")
		cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=ops-test", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("the CGO_ENABLED=0 binary has a %v segment: not static", p.Type)
			}
		}
		out, err := exec.CommandContext(t.Context(), bin, "check", "--config", filepath.Join("../..", src)).CombinedOutput()
		if err != nil {
			t.Errorf("newswatch check --config %s (the build step's check): %v\n%s", src, err, out)
		}
		if out, _ := exec.CommandContext(t.Context(), bin, "version").CombinedOutput(); !strings.Contains(string(out), "ops-test") {
			t.Errorf("newswatch version = %q, want the -X main.version stamp", out)
		}
	})
}

type composeFile struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Command     []string          `yaml:"command"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		ReadOnly    bool              `yaml:"read_only"`
		CapDrop     []string          `yaml:"cap_drop"`
	} `yaml:"services"`
}

func TestOpsCompose(t *testing.T) {
	var c composeFile
	if err := yaml.Unmarshal(readDeploy(t, "docker-compose.yml"), &c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nats", "newswatch", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	// mounts maps each service's container path to the host path (relative to deploy/).
	mounts := map[string]map[string]string{}
	for name, s := range c.Services {
		mounts[name] = map[string]string{}
		if s.Image != "" && (!strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest")) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for _, v := range s.Volumes {
			f := strings.Split(v, ":")
			if len(f) < 2 {
				t.Errorf("service %s: volume %q", name, v)
				continue
			}
			mounts[name][f[1]] = f[0]
			if strings.HasPrefix(f[0], ".") {
				if _, err := os.Stat(deployPath(f[0])); err != nil {
					t.Errorf("service %s mounts %s, which does not exist: %v", name, f[0], err)
				}
			}
		}
	}
	nw := c.Services["newswatch"]
	if df := filepath.Join(deployDir, nw.Build.Context, nw.Build.Dockerfile); filepath.Clean(df) != filepath.Clean(deployPath("Dockerfile")) {
		t.Errorf("newswatch builds %s, want deploy/Dockerfile", df)
	}
	if !nw.ReadOnly || !slices.Equal(nw.CapDrop, []string{"ALL"}) {
		t.Errorf("newswatch: read_only %v, cap_drop %v; want a read-only root and no capabilities", nw.ReadOnly, nw.CapDrop)
	}
	if want := []string{"run", "--config", "/etc/newswatch/newswatch.yaml"}; !slices.Equal(nw.Command, want) {
		t.Errorf("newswatch command %v, want %v", nw.Command, want)
	}
	cfgPath := mounts["newswatch"]["/etc/newswatch/newswatch.yaml"]
	cfg := parseConfig(t, readDeploy(t, cfgPath), cfgPath)
	if cfg.NATS.URL != "nats://nats:4222" || !slices.Contains(c.Services["nats"].Command, "--jetstream") {
		t.Errorf("newswatch uses NATS %q; the nats service runs %v: want nats://nats:4222 with --jetstream", cfg.NATS.URL, c.Services["nats"].Command)
	}
	if _, ok := mounts["newswatch"][cfg.DataDir]; !ok {
		t.Errorf("data_dir %s is not a volume of the read-only newswatch container", cfg.DataDir)
	}
	for _, f := range cfg.Feeds {
		p, ok := strings.CutPrefix(f.URL, "file://")
		if !ok {
			continue
		}
		dir, file := filepath.Split(p)
		host, ok := mounts["newswatch"][strings.TrimSuffix(dir, "/")]
		if _, err := os.Stat(deployPath(host, file)); !ok || err != nil {
			t.Errorf("feed %s reads %s, which no newswatch mount provides", f.ID, p)
		}
	}
	port := listenPort(t, cfg.HTTP.Listen)
	if !slices.Contains(nw.Ports, "127.0.0.1:"+port+":"+port) {
		t.Errorf("newswatch publishes %v; it listens on %s (publish it on loopback: the API has no authentication)", nw.Ports, cfg.HTTP.Listen)
	}
	// Prometheus reads deploy/prometheus and scrapes newswatch where it listens.
	promCfg := mounts["prometheus"]["/etc/prometheus"]
	if filepath.Clean(promCfg) != "prometheus" || !slices.Contains(c.Services["prometheus"].Command, "--config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus mounts %q and runs %v", promCfg, c.Services["prometheus"].Command)
	}
	if !strings.Contains(string(readDeploy(t, "prometheus", "prometheus.yml")), `"newswatch:`+port+`"`) {
		t.Errorf("prometheus.yml does not scrape newswatch:%s", port)
	}
	if _, release := promtoolVersion(t); c.Services["prometheus"].Image != "prom/prometheus:"+release {
		t.Errorf("prometheus image %s; the rules are tested with promtool %s", c.Services["prometheus"].Image, release)
	}
	// Grafana: the provisioned data source is the prometheus service, and the dashboard
	// provider reads the folder the dashboard is mounted in.
	g := mounts["grafana"]
	if filepath.Clean(g["/etc/grafana/provisioning"]) != "grafana/provisioning" {
		t.Errorf("grafana provisioning mount %q", g["/etc/grafana/provisioning"])
	}
	var ds struct {
		Datasources []struct{ Type, URL string } `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(readDeploy(t, "grafana", "provisioning", "datasources", "prometheus.yml"), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("provisioned data sources %+v, want the prometheus service", ds.Datasources)
	}
	var prov struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(readDeploy(t, "grafana", "provisioning", "dashboards", "newswatch.yml"), &prov); err != nil {
		t.Fatal(err)
	}
	dashDir := ""
	for target, host := range g {
		if filepath.Clean(host) == "grafana/newswatch.json" {
			dashDir = filepath.Dir(target)
		}
	}
	if len(prov.Providers) != 1 || prov.Providers[0].Options.Path != dashDir {
		t.Errorf("dashboard provider %+v; newswatch.json is mounted in %q", prov.Providers, dashDir)
	}
}

// ---- Kubernetes ----

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	StartupProbe    *k8sProbe `yaml:"startupProbe"`
	LivenessProbe   *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe  *k8sProbe `yaml:"readinessProbe"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

func (c k8sContainer) probes() []k8sProbe {
	var out []k8sProbe
	for _, p := range []*k8sProbe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// Workloads.
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		ServiceName string `yaml:"serviceName"`
		Template    struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
					RunAsUser    int   `yaml:"runAsUser"`
					FSGroup      int   `yaml:"fsGroup"`
				} `yaml:"securityContext"`
				Containers []k8sContainer `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`

		// PodDisruptionBudgets (with Selector above).
		MinAvailable *int `yaml:"minAvailable"`

		// Services.
		ClusterIP string `yaml:"clusterIP"`
		Ports     []struct {
			Name       string `yaml:"name"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// k8sWorkload is one StatefulSet or Deployment with what it refers to.
type k8sWorkload struct {
	dir       string
	obj       k8sObject
	container k8sContainer
	objects   []k8sObject
	selectors []map[string]string // of the Services
}

// loadWorkloads reads each kustomization under deploy/kubernetes and its resources.
func loadWorkloads(t *testing.T) []k8sWorkload {
	t.Helper()
	dirs, err := filepath.Glob(deployPath("kubernetes", "*", "kustomization.yaml"))
	if err != nil || len(dirs) != 2 {
		t.Fatalf("kustomizations %v (%v), want embedded and external-nats", dirs, err)
	}
	var out []k8sWorkload
	for _, k := range dirs {
		dir := filepath.Dir(k)
		var kust struct {
			Resources []string `yaml:"resources"`
		}
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &kust); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		w := k8sWorkload{dir: filepath.Base(dir)}
		var workloads int
		for _, res := range kust.Resources {
			b, err := os.ReadFile(filepath.Join(dir, res))
			if err != nil {
				t.Fatal(err)
			}
			dec := yaml.NewDecoder(bytes.NewReader(b))
			for {
				var raw map[string]any
				if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("%s/%s: %v", w.dir, res, err)
				}
				re, _ := yaml.Marshal(raw)
				var obj k8sObject
				if err := yaml.Unmarshal(re, &obj); err != nil {
					t.Fatalf("%s/%s: %v", w.dir, res, err)
				}
				if obj.APIVersion == "" || obj.Kind == "" || obj.Metadata.Name == "" {
					t.Fatalf("%s/%s: an object without apiVersion, kind or metadata.name", w.dir, res)
				}
				w.objects = append(w.objects, obj)
				switch obj.Kind {
				case "StatefulSet", "Deployment":
					workloads++
					w.obj = obj
				case "Service":
					spec, _ := raw["spec"].(map[string]any)
					sel := map[string]string{}
					if s, ok := spec["selector"].(map[string]any); ok {
						for k, v := range s {
							sel[k], _ = v.(string)
						}
					}
					w.selectors = append(w.selectors, sel)
				}
			}
		}
		if workloads != 1 || len(w.obj.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: want one workload with one container", w.dir)
		}
		w.container = w.obj.Spec.Template.Spec.Containers[0]
		out = append(out, w)
	}
	return out
}

func TestOpsKubernetes(t *testing.T) {
	for _, w := range loadWorkloads(t) {
		t.Run(w.dir, func(t *testing.T) {
			checkWorkload(t, w)
		})
	}
	t.Run("strict_schema", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: compiling the Kubernetes API types takes a minute on a cold build cache")
		}
		// Decode every object into the Kubernetes API's Go types, unknown fields rejected
		// (deploy/tools/k8scheck); first show that a misspelt field fails it.
		files, err := filepath.Glob(deployPath("kubernetes", "*", "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		for _, f := range files {
			if filepath.Base(f) != "kustomization.yaml" {
				abs, _ := filepath.Abs(f)
				args = append(args, abs)
			}
		}
		sts, err := os.ReadFile(deployPath("kubernetes", "embedded", "statefulset.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		typo := filepath.Join(t.TempDir(), "typo.yaml")
		if err := os.WriteFile(typo, bytes.Replace(sts, []byte("readinessProbe:"), []byte("readinesProbe:"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := toolBinary(t, "k8scheck")
		k8scheck := func(files ...string) (string, error) {
			out, err := exec.CommandContext(t.Context(), bin, files...).CombinedOutput()
			return string(out), err
		}
		if out, err := k8scheck(typo); err == nil || !strings.Contains(out, `unknown field "readinesProbe"`) {
			t.Fatalf("k8scheck accepted a misspelt field (%v):\n%s", err, out)
		}
		if out, err := k8scheck(args...); err != nil {
			t.Errorf("k8scheck: %v\n%s", err, out)
		}
	})
	t.Run("kubectl_kustomize", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed; the manifests were checked above without it")
		}
		for _, dir := range []string{"embedded", "external-nats"} {
			out, err := exec.CommandContext(t.Context(), kubectl, "kustomize", deployPath("kubernetes", dir)).CombinedOutput()
			if err != nil {
				t.Errorf("kubectl kustomize %s: %v\n%s", dir, err, out)
			}
		}
	})
}

func checkWorkload(t *testing.T, w k8sWorkload) {
	t.Helper()
	spec := w.obj.Spec
	c := w.container
	want := map[string]string{"embedded": "StatefulSet", "external-nats": "Deployment"}[w.dir]
	if w.obj.Kind != want {
		t.Errorf("kind %s, want %s", w.obj.Kind, want)
	}
	// The embedded store is one pod's volume; external NATS runs two instances in cluster mode.
	wantReplicas := map[string]int{"embedded": 1, "external-nats": 2}[w.dir]
	if spec.Replicas == nil || *spec.Replicas != wantReplicas {
		t.Errorf("replicas %v, want %d", spec.Replicas, wantReplicas)
	}
	for k, v := range spec.Selector.MatchLabels {
		if spec.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod labels %v", k, v, spec.Template.Metadata.Labels)
		}
	}
	// Hardening.
	psc, sc := spec.Template.Spec.SecurityContext, c.SecurityContext
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	if !isTrue(psc.RunAsNonRoot) || psc.RunAsUser == 0 || !isTrue(sc.RunAsNonRoot) || !isTrue(sc.ReadOnlyRootFilesystem) ||
		!isFalse(sc.AllowPrivilegeEscalation) || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("security contexts pod %+v, container %+v: want non-root, read-only root, no escalation, no capabilities", psc, sc)
	}
	// Probes on the named HTTP port.
	httpPort := 0
	for _, p := range c.Ports {
		if p.Name == "http" {
			httpPort = p.ContainerPort
		}
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("liveness %+v, readiness %+v: want /healthz and /readyz", c.LivenessProbe, c.ReadinessProbe)
	}
	for _, p := range c.probes() {
		if p.HTTPGet.Port != "http" || httpPort == 0 {
			t.Errorf("probe %s on port %q; the container's http port is %d", p.HTTPGet.Path, p.HTTPGet.Port, httpPort)
		}
	}
	// The config: mounted where --config points, valid, listening on the http port, storing
	// on the right volume.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if !slices.Equal(c.Args, []string{"run", "--config", mounts["config"] + "/newswatch.yaml"}) {
		t.Errorf("args %v; the config volume is mounted at %q", c.Args, mounts["config"])
	}
	var cm string
	for _, v := range spec.Template.Spec.Volumes {
		if v.Name == "config" && v.ConfigMap != nil {
			cm = v.ConfigMap.Name
		}
	}
	var cfgText string
	for _, o := range w.objects {
		if o.Kind == "ConfigMap" && o.Metadata.Name == cm {
			cfgText = o.Data["newswatch.yaml"]
		}
	}
	if cfgText == "" {
		t.Fatalf("config volume refers to ConfigMap %q, which has no newswatch.yaml here", cm)
	}
	cfg := parseConfig(t, []byte(cfgText), w.dir+"/configmap.yaml")
	if port := listenPort(t, cfg.HTTP.Listen); port != fmt.Sprint(httpPort) || strings.HasPrefix(cfg.HTTP.Listen, "127.") {
		t.Errorf("http.listen %q; the probes and Service use container port %d", cfg.HTTP.Listen, httpPort)
	}
	if mounts["data"] != cfg.DataDir {
		t.Errorf("data_dir %q; the data volume is mounted at %q", cfg.DataDir, mounts["data"])
	}
	if mounts["tmp"] != "/tmp" {
		t.Error("no writable /tmp under the read-only root")
	}
	embedded := cfg.NATS.URL == ""
	claims := len(spec.VolumeClaimTemplates) == 1 && spec.VolumeClaimTemplates[0].Metadata.Name == "data"
	if embedded != (w.dir == "embedded") || claims != embedded {
		t.Errorf("nats.url %q, data volume claim %v: embedded mode needs both the embedded server and a persistent volume, external mode neither", cfg.NATS.URL, claims)
	}
	if embedded && !slices.ContainsFunc(w.objects, func(o k8sObject) bool {
		return o.Kind == "Service" && o.Metadata.Name == spec.ServiceName && o.Spec.ClusterIP == "None"
	}) {
		t.Errorf("serviceName %q is not a headless Service here", spec.ServiceName)
	}
	if len(w.selectors) == 0 {
		t.Error("no Service")
	}
	if w.dir == "external-nats" {
		checkClusterWorkload(t, w, cfg)
	}
	for _, sel := range w.selectors {
		for k, v := range sel {
			if spec.Template.Metadata.Labels[k] != v {
				t.Errorf("Service selector %v does not select the pods %v", sel, spec.Template.Metadata.Labels)
			}
		}
	}
	for _, o := range w.objects {
		for _, p := range o.Spec.Ports {
			if o.Kind == "Service" && p.TargetPort != "http" {
				t.Errorf("Service %s port %s targets %q, want the container's named port http", o.Metadata.Name, p.Name, p.TargetPort)
			}
		}
	}
}

// checkClusterWorkload: several replicas need cluster mode, and a PodDisruptionBudget that
// keeps one of them running.
func checkClusterWorkload(t *testing.T, w k8sWorkload, cfg *config.Config) {
	t.Helper()
	if !cfg.Cluster.Enabled {
		t.Error("external-nats runs 2 replicas without cluster.enabled: both would poll every feed and run every role")
	}
	labels := w.obj.Spec.Template.Metadata.Labels
	if !slices.ContainsFunc(w.objects, func(o k8sObject) bool {
		if o.Kind != "PodDisruptionBudget" || o.Spec.MinAvailable == nil || *o.Spec.MinAvailable != 1 || len(o.Spec.Selector.MatchLabels) == 0 {
			return false
		}
		for k, v := range o.Spec.Selector.MatchLabels {
			if labels[k] != v {
				return false
			}
		}
		return true
	}) {
		t.Error("no PodDisruptionBudget with minAvailable: 1 selecting the pods")
	}
}

// ---- systemd ----

// unitFile is a parsed systemd unit: section → key → values (keys may repeat).
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, b []byte) unitFile {
	t.Helper()
	u := unitFile{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("newswatch.service:%d: %q is not key=value in a section", i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func TestOpsSystemdUnit(t *testing.T) {
	unit := readDeploy(t, "systemd", "newswatch.service")
	u := parseUnit(t, unit)
	svc := u["Service"]
	one := func(k string) string {
		if len(svc[k]) != 1 {
			t.Errorf("[Service] %s=%v, want it set once", k, svc[k])
			return ""
		}
		return svc[k][0]
	}
	if got := one("ExecStart"); got != "/usr/local/bin/newswatch run --config /etc/newswatch/newswatch.yaml" {
		t.Errorf("ExecStart=%s", got)
	}
	if got := one("ExecReload"); !strings.Contains(got, "kill -HUP $MAINPID") {
		t.Errorf("ExecReload=%s, want SIGHUP (the config reload)", got)
	}
	user := one("User")
	if user == "" || user == "root" {
		t.Errorf("User=%q, want a dedicated user", user)
	}
	if !strings.Contains(string(readDeploy(t, "systemd", "newswatch.sysusers")), "u "+user+" ") {
		t.Errorf("newswatch.sysusers does not create user %s", user)
	}
	for k, v := range map[string]string{
		"StateDirectory": "newswatch", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes",
		"RestartPreventExitStatus": "2", "KillSignal": "SIGTERM",
	} {
		if got := one(k); got != v {
			t.Errorf("[Service] %s=%q, want %q", k, got, v)
		}
	}
	// The state directory is the data_dir the install instructions give.
	if !strings.Contains(string(unit), "data_dir: /var/lib/"+one("StateDirectory")) {
		t.Error("the install notes do not set data_dir to the StateDirectory")
	}

	t.Run("systemd_analyze", func(t *testing.T) {
		sa, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed (apt-get install systemd); the unit was checked above without it")
		}
		// verify wants the binaries to exist: point ExecStart at a real one.
		dir := t.TempDir()
		bin := filepath.Join(dir, "newswatch")
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(self, bin); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "newswatch.service")
		if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/newswatch"), []byte(bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), sa, "verify", path).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		// Exposure score 0 (locked down) to 10 (unprotected); fail above 2.0.
		out, err = exec.CommandContext(t.Context(), sa, "security", "--offline=yes", "--threshold=20", path).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security: %v\n%s", err, out)
		}
		if i := bytes.LastIndex(out, []byte("Overall exposure level")); i >= 0 {
			t.Logf("%s", bytes.TrimSpace(out[i:]))
		}
	})
}
