package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"golang.org/x/term"
)

// connectTool connects a command-line tool to the event log: the daemon's NATS (nats.url, or the
// embedded server's nats.listen) when it answers, else, in embedded mode, the data directory
// itself with an in-process server (the daemon must then not be running).
func connectTool(ctx context.Context, cfg *config.Config, name string) (*events.Conn, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cc := connConfig(cfg)
	cc.Name = name
	if cfg.NATS.URL == "" && cfg.NATS.Listen != "" {
		cc.URL = "nats://" + cfg.NATS.Listen
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		conn, err := events.Connect(cctx, cc, quiet)
		cancel()
		if err == nil {
			return conn, nil
		}
		cc.URL = ""
	}
	conn, err := events.Connect(ctx, cc, quiet)
	if err != nil {
		return nil, fmt.Errorf("%w (is another newswatch using %s?)", err, cfg.DataDir)
	}
	if err := conn.EnsureStreams(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// progressReporter draws a progress bar on a terminal, else logs a line every few seconds.
type progressReporter struct {
	w        io.Writer
	tty      bool
	start    time.Time
	lastLine time.Time
}

func newProgress(w io.Writer) *progressReporter {
	f, ok := w.(*os.File)
	return &progressReporter{w: w, tty: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

func (p *progressReporter) report(read, total uint64) {
	elapsed := time.Since(p.start).Seconds()
	rate := float64(read) / max(elapsed, 1e-9)
	eta := time.Duration(float64(total-min(read, total))/max(rate, 1e-9)) * time.Second
	if p.tty {
		const width = 30
		done := int(float64(width) * float64(read) / float64(max(total, 1)))
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < done {
				bar[i] = '='
			}
		}
		fmt.Fprintf(p.w, "\r[%s] %d/%d events  %.0f/s  ETA %s   ", bar, read, total, rate, eta.Round(time.Second))
		if read >= total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if time.Since(p.lastLine) >= 5*time.Second || read >= total {
		p.lastLine = time.Now()
		fmt.Fprintf(p.w, "progress: %d/%d events, %.0f events/s, ETA %s\n", read, total, rate, eta.Round(time.Second))
	}
}

func finalLine(w io.Writer, what string, st events.ReplayStats) {
	fmt.Fprintf(w, "%s: read %d events, applied %d, skipped %d in %s\n", what, st.Read, st.Applied, st.Skipped, st.Elapsed.Round(time.Millisecond))
}
