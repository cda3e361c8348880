package web

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/topics"
	"go.yaml.in/yaml/v3"
)

// Limits of one query evaluation's answer.
const (
	listedMatches  = 50
	listedExamples = 10
	maxQueryBytes  = 4 << 10
)

// hitRow is an article a query matched (or no longer matches), with why.
type hitRow struct {
	ID, URL, Source string
	At              time.Time
	Title, Snippet  template.HTML
	Terms           []topics.MatchedTerm
}

type queryData struct {
	Topics  []config.Topic
	Topic   string // the topic whose query is edited ("" in search)
	Query   string
	Current string // the topic's query in force
	Days    int
	DayOpts []int
	Err     string
	Ran     bool
	Scanned int
	// Matches of the query; Current, the current query's count; Caught and Lost, articles the
	// edit newly matches or no longer matches.
	Matches     []hitRow
	Total       int
	CurrentN    int
	Caught      []hitRow
	CaughtN     int
	Lost        []hitRow
	LostN       int
	YAML        string
	Unavailable bool
}

func (s *server) queryTester(w http.ResponseWriter, r *http.Request) {
	d := s.queryForm(r)
	for _, t := range d.Topics {
		if t.ID == d.Topic {
			d.Current = t.Query
		}
	}
	if !r.URL.Query().Has("q") {
		d.Query = d.Current
	}
	if d.Query != "" {
		s.runQuery(r, &d, d.Current)
	}
	if d.Ran && d.Err == "" && d.Topic != "" {
		d.YAML = topicYAML(d.Topics, d.Topic, d.Query)
	}
	s.render(w, r, "query", view{Title: "Query tester", Nav: "query", Data: d}, r.URL.Query().Get("partial") == "1")
}

func (s *server) search(w http.ResponseWriter, r *http.Request) {
	d := s.queryForm(r)
	d.Topic = ""
	if d.Query != "" {
		s.runQuery(r, &d, "")
	}
	s.render(w, r, "search", view{Title: "Search", Nav: "search", Data: d}, r.URL.Query().Get("partial") == "1")
}

func (s *server) queryForm(r *http.Request) queryData {
	q := r.URL.Query()
	d := queryData{Topics: s.o.Config().Topics, Topic: q.Get("topic"), Query: clip(strings.TrimSpace(q.Get("q")), maxQueryBytes),
		Days: 3, DayOpts: []int{1, 3, 7}, Unavailable: s.corpus == nil}
	if d.Topic == "" && len(d.Topics) > 0 && r.URL.Path == "/query" {
		d.Topic = d.Topics[0].ID
	}
	if n, err := strconv.Atoi(q.Get("days")); err == nil && n >= 1 && n <= maxDays {
		d.Days = n
	}
	return d
}

// runQuery matches the recent articles against the query and, when given, the current one.
func (s *server) runQuery(r *http.Request, d *queryData, current string) {
	if s.corpus == nil {
		return
	}
	list := []topics.Topic{{ID: "edited", Query: d.Query}}
	if current != "" && current != d.Query {
		list = append(list, topics.Topic{ID: "current", Query: current})
	}
	m, err := topics.Compile(list)
	if err != nil {
		var te *topics.TopicError
		if errors.As(err, &te) && te.Topic == "current" {
			current = "" // the config's query no longer parses: compare with nothing
			m, err = topics.Compile(list[:1])
		}
		if err != nil {
			d.Err = "This query does not parse: " + strings.TrimPrefix(err.Error(), `topic "edited": `)
			return
		}
	}
	select {
	case s.tests <- struct{}{}:
		defer func() { <-s.tests }()
	case <-r.Context().Done():
		return
	}
	arts, err := s.corpus.Recent(r.Context(), d.Days)
	if err != nil {
		d.Err = "The stored articles could not be read: " + err.Error()
		return
	}
	d.Ran, d.Scanned = true, len(arts)
	same := current != "" && current == d.Query
	for _, a := range slices.Backward(arts) {
		var edited, cur []topics.MatchedTerm
		inEdited, inCur := false, false
		for _, h := range m.Match(matching.DocOf(a, s.o.FeedTags)) {
			switch h.Topic {
			case "edited":
				edited, inEdited = h.Terms, true
			case "current":
				cur, inCur = h.Terms, true
			}
		}
		if same {
			cur, inCur = edited, inEdited
		}
		if inEdited {
			d.Total++
			if len(d.Matches) < listedMatches {
				d.Matches = append(d.Matches, hitOf(a, edited))
			}
		}
		if inCur {
			d.CurrentN++
		}
		switch {
		case inEdited && !inCur && current != "":
			d.CaughtN++
			if len(d.Caught) < listedExamples {
				d.Caught = append(d.Caught, hitOf(a, edited))
			}
		case inCur && !inEdited:
			d.LostN++
			if len(d.Lost) < listedExamples {
				d.Lost = append(d.Lost, hitOf(a, cur))
			}
		}
	}
}

func hitOf(a events.Article, terms []topics.MatchedTerm) hitRow {
	snippet := a.Summary
	if snippet == "" {
		snippet = a.Content
	}
	return hitRow{ID: a.ID, URL: a.URL, Source: a.FeedID, At: a.FirstSeenAt, Terms: terms,
		Title: highlight(a.Title, terms), Snippet: highlight(clip(snippet, 280), terms)}
}

// topicYAML is the topic's config entry with the edited query, to paste into the config.
func topicYAML(list []config.Topic, id, query string) string {
	type entry struct {
		ID    string `yaml:"id"`
		Name  string `yaml:"name,omitempty"`
		Query string `yaml:"query"`
	}
	e := entry{ID: id, Query: query}
	for _, t := range list {
		if t.ID == id {
			e.Name = t.Name
		}
	}
	out, err := yaml.Marshal([]entry{e})
	if err != nil {
		return ""
	}
	return "topics:\n" + indent(string(out), "  ")
}

func indent(s, by string) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "") + "\n"
}
