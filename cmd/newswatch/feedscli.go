package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/newswatch/newswatch/api"
	"github.com/newswatch/newswatch/config"
)

const feedsUsage = `Usage: newswatch feeds COMMAND [--config FILE] [--api URL] ...

Commands (they talk to the running daemon's API):
  list                                  the feeds, their origin (file or runtime) and health
  add ID URL [--schedule S] [--tag T] [--full-text]
                                        add a feed; URL may be a site's address
  set ID [--url URL] [--schedule S] [--full-text=false]
                                        change a runtime feed
  rm ID                                 remove a runtime feed
  pause ID | resume ID                  stop or restart a feed's scheduled polls
  poll ID                               poll a feed now and print the outcome
  import FILE.opml [--schedule S] [--dry-run]
                                        add an OPML file's feeds and print the report
  export [--output FILE]                write every feed as OPML 2.0
`

// apiClient calls a running newswatch's API.
type apiClient struct {
	base, token string
	http        *http.Client
}

// apiBase is where the running daemon's API is: --api, else http.listen with a wildcard host
// replaced by loopback.
func apiBase(cfg *config.Config, flagURL string) (string, error) {
	if flagURL != "" {
		return strings.TrimSuffix(flagURL, "/"), nil
	}
	if cfg.HTTP.Listen == "" {
		return "", errors.New("the API is disabled (http.listen is empty): enable it or pass --api URL")
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", cfg.HTTP.Listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func (c apiClient) do(ctx context.Context, method, path string, body any, out io.Writer) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is newswatch running?)", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	_, err = out.Write(data)
	return err
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cmdFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, feedsUsage)
		return exitUsage
	}
	sub := args[0]
	fs := newFlags("feeds "+sub, "feeds "+sub+" ...", stderr)
	path := fs.String("config", "", "config file (default $NEWSWATCH_CONFIG, else the built-in default)")
	apiURL := fs.String("api", "", "the API's base URL (default: from http.listen)")
	schedule := fs.String("schedule", "", "cron schedule (default @every 5m for new feeds)")
	feedURL := fs.String("url", "", "new URL (feeds set)")
	output := fs.String("output", "", "write here instead of standard output (feeds export)")
	dryRun := fs.Bool("dry-run", false, "report what an import would add, change nothing")
	fullText := fs.Bool("full-text", false, "fetch each new article's page and match its main text too (feeds add, feeds set)")
	var tags stringList
	fs.Var(&tags, "tag", "a tag for the feed (repeatable)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	need := map[string]int{"list": 0, "export": 0, "add": 2, "set": 1, "rm": 1, "pause": 1, "resume": 1, "poll": 1, "import": 1}
	n, known := need[sub]
	if !known || len(pos) != n {
		fmt.Fprint(stderr, feedsUsage)
		return exitUsage
	}
	cfg, err := loadConfig(*path, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	base, err := apiBase(cfg, *apiURL)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	c := apiClient{base: base, token: cfg.HTTP.Token, http: &http.Client{Timeout: 5 * time.Minute}}
	var out io.Writer = stdout
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitRuntime
		}
		defer f.Close()
		out = f
	}
	ff := feedsFlags{schedule: *schedule, url: *feedURL, tags: tags, dryRun: *dryRun}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "full-text" {
			ff.fullText = fullText
		}
	})
	if err := runFeedsCommand(ctx, c, sub, pos, ff, out); err != nil {
		fmt.Fprintf(stderr, "newswatch feeds %s: %v\n", sub, err)
		return exitRuntime
	}
	return exitOK
}

type feedsFlags struct {
	schedule, url string
	tags          []string
	dryRun        bool
	fullText      *bool // set only when the flag was given
}

func runFeedsCommand(ctx context.Context, c apiClient, sub string, pos []string, f feedsFlags, out io.Writer) error {
	switch sub {
	case "list":
		return c.do(ctx, http.MethodGet, "/api/v1/feeds", nil, out)
	case "export":
		return c.do(ctx, http.MethodGet, "/api/v1/feeds/export", nil, out)
	case "add":
		return c.do(ctx, http.MethodPost, "/api/v1/feeds", api.FeedRequest{ID: pos[0], URL: pos[1], Schedule: f.schedule, Tags: f.tags, FullText: f.fullText}, out)
	case "set":
		return c.do(ctx, http.MethodPatch, "/api/v1/feeds/"+pos[0], api.FeedRequest{URL: f.url, Schedule: f.schedule, Tags: f.tags, FullText: f.fullText}, out)
	case "rm":
		return c.do(ctx, http.MethodDelete, "/api/v1/feeds/"+pos[0], nil, out)
	case "pause", "resume", "poll":
		return c.do(ctx, http.MethodPost, "/api/v1/feeds/"+pos[0]+"/"+sub, struct{}{}, out)
	case "import":
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		return c.do(ctx, http.MethodPost, "/api/v1/feeds/import", api.ImportRequest{OPML: string(data), Schedule: f.schedule, DryRun: f.dryRun}, out)
	}
	return fmt.Errorf("unknown command %q", sub)
}

// parseInterspersed parses flags that may come before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
