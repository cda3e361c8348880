package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
)

// tailURL is where a running newswatch's NATS is: nats.url, or the embedded server's listener.
func tailURL(cfg *config.Config) (string, error) {
	if cfg.NATS.URL != "" {
		return cfg.NATS.URL, nil
	}
	if cfg.NATS.Listen == "" {
		return "", errors.New("the embedded NATS server has no client port (nats.listen is empty); set nats.listen to follow alerts from outside the daemon")
	}
	return "nats://" + cfg.NATS.Listen, nil
}

func cmdAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "tail" {
		fmt.Fprintln(stderr, "Usage: newswatch alerts tail [--config FILE] [--topic ID] [--since RFC3339|DURATION] [--json]")
		return exitUsage
	}
	fs := newFlags("alerts tail", "alerts tail [--config FILE] [--topic ID] [--since RFC3339|DURATION] [--json]", stderr)
	path := fs.String("config", "", "config file (default $NEWSWATCH_CONFIG, else the built-in default)")
	topic := fs.String("topic", "", "only this topic's alerts")
	sinceFlag := fs.String("since", "", "start from this time (RFC 3339) or this long ago (e.g. 24h); default: new alerts only")
	asJSON := fs.Bool("json", false, "print each alert as one line of JSON")
	if code, stop := parseFlags(fs, args[1:]); stop {
		return code
	}
	var since time.Time
	if *sinceFlag != "" {
		if d, err := time.ParseDuration(*sinceFlag); err == nil {
			since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, *sinceFlag); err == nil {
			since = t
		} else {
			fmt.Fprintf(stderr, "newswatch alerts tail: --since %q is neither an RFC 3339 time nor a duration\n", *sinceFlag)
			return exitUsage
		}
	}
	cfg, err := loadConfig(*path, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	url, err := tailURL(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "newswatch alerts tail:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cc := connConfig(cfg)
	cc.URL, cc.Name = url, "newswatch alerts tail"
	conn, err := events.Connect(ctx, cc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintf(stderr, "newswatch alerts tail: %v (is newswatch running?)\n", err)
		return exitRuntime
	}
	defer conn.Close()
	if _, err := announceStore(ctx, conn, cfg, "newswatch alerts tail", stderr); err != nil {
		fmt.Fprintln(stderr, "newswatch alerts tail: cannot read the store's identity:", err)
	}
	err = conn.TailAlerts(ctx, *topic, since, func(data []byte) { printAlert(stdout, data, *asJSON) })
	if err != nil {
		fmt.Fprintln(stderr, "newswatch alerts tail:", err)
		return exitRuntime
	}
	return exitOK
}

func printAlert(w io.Writer, data []byte, asJSON bool) {
	var a notify.Alert
	if err := json.Unmarshal(data, &a); err != nil {
		return
	}
	if asJSON {
		b, _ := json.Marshal(a)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	fmt.Fprintf(w, "%s  %s  %s\n", a.FiredAt.Local().Format(time.DateTime), a.Topic, a.Summary)
	for _, art := range a.Articles {
		extra := ""
		if len(art.Copies) > 0 {
			extra = fmt.Sprintf(" (+%d outlets)", len(art.Copies))
		}
		fmt.Fprintf(w, "    %s — %s%s\n    %s\n", art.Title, art.Source, extra, art.URL)
	}
}
