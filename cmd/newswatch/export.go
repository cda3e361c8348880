package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
)

// exportStreams are the streams export reads, in order, with their event subjects.
var exportStreams = []struct{ stream, prefix string }{
	{events.ArticleStream, events.ArticleSubjectPrefix},
	{events.ArticleStream, events.FullTextSubjectPrefix},
	{events.MatchStream, events.MatchSubjectPrefix},
	{events.AlertStream, events.AlertSubjectPrefix},
	{events.PollStream, events.PollSubjectPrefix},
}

// exportPlan maps a subject filter to the streams and subjects to read.
func exportPlan(subject string) ([][2]string, error) {
	var plan [][2]string
	for _, s := range exportStreams {
		switch {
		case subject == "" || subject == "newswatch.>":
			plan = append(plan, [2]string{s.stream, s.prefix + "*"})
		case strings.HasPrefix(subject, s.prefix) || subject+"." == s.prefix || subject == s.prefix+">":
			if subject+"." == s.prefix || subject == s.prefix+">" {
				subject = s.prefix + "*"
			}
			plan = append(plan, [2]string{s.stream, subject})
		}
	}
	if len(plan) == 0 {
		return nil, fmt.Errorf("--subject %q names no newswatch events (newswatch.articles.*, .matches.*, .alerts.*, .polls.*)", subject)
	}
	return plan, nil
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", "export [--config FILE] [--from RFC3339|SEQ] [--to RFC3339|SEQ] [--subject SUBJ] [--output FILE]", stderr)
	path := fs.String("config", "", "config file (default $NEWSWATCH_CONFIG, else the built-in default)")
	from := fs.String("from", "", "first event: stream sequence or RFC 3339 time")
	to := fs.String("to", "", "last event: stream sequence or RFC 3339 time")
	subject := fs.String("subject", "newswatch.>", "which events, e.g. newswatch.articles.guardian-world or newswatch.matches.*")
	output := fs.String("output", "-", "file to write (- for stdout)")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	var r events.Range
	var err error
	if r.FromSeq, r.FromTime, err = events.ParseBound(*from); err == nil {
		r.ToSeq, r.ToTime, err = events.ParseBound(*to)
	}
	if err != nil {
		fmt.Fprintln(stderr, "newswatch export:", err)
		return exitUsage
	}
	plan, err := exportPlan(*subject)
	if err != nil {
		fmt.Fprintln(stderr, "newswatch export:", err)
		return exitUsage
	}
	cfg, err := loadConfig(*path, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	out := stdout
	if *output != "-" {
		f, err := os.Create(*output)
		if err != nil {
			fmt.Fprintln(stderr, "newswatch export:", err)
			return exitRuntime
		}
		defer f.Close()
		out = f
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, err := connectTool(ctx, cfg, "newswatch export")
	if err != nil {
		fmt.Fprintln(stderr, "newswatch export:", err)
		return exitRuntime
	}
	defer conn.Close()
	if _, err := announceStore(ctx, conn, cfg, "newswatch export", stderr); err != nil {
		fmt.Fprintln(stderr, "newswatch export:", err)
		return exitRuntime
	}
	w := bufio.NewWriterSize(out, 1<<16)
	var total events.ReplayStats
	for _, p := range plan {
		st, err := conn.Replay(ctx, p[0], []string{p[1]}, r, newProgress(stderr).report, func(e events.Event) (bool, error) {
			line, err := exportLine(p[0], e)
			if err != nil {
				return false, nil
			}
			_, err = w.Write(append(line, '\n'))
			return true, err
		})
		total.Read, total.Applied, total.Skipped, total.Elapsed = total.Read+st.Read, total.Applied+st.Applied, total.Skipped+st.Skipped, total.Elapsed+st.Elapsed
		if err != nil {
			fmt.Fprintln(stderr, "newswatch export:", err)
			return exitRuntime
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "newswatch export:", err)
		return exitRuntime
	}
	finalLine(stderr, "export", total)
	return exitOK
}

// exportLine is one event as a CloudEvents JSON object with the NATS subject and stream
// sequence as extension attributes. Alerts, stored as plain alert JSON, get their envelope here.
func exportLine(stream string, e events.Event) ([]byte, error) {
	var obj map[string]json.RawMessage
	if stream == events.AlertStream {
		var a notify.Alert
		if err := json.Unmarshal(e.Data, &a); err != nil {
			return nil, err
		}
		obj = map[string]json.RawMessage{}
		for k, v := range map[string]any{
			"specversion": "1.0", "type": events.TypeAlert, "source": "/topics/" + a.Topic, "id": a.ID,
			"time": a.FiredAt, "datacontenttype": "application/json", "schemaversion": events.AlertSchemaVersion,
		} {
			obj[k], _ = json.Marshal(v)
		}
		obj["data"] = e.Data
	} else if err := json.Unmarshal(e.Data, &obj); err != nil {
		return nil, err
	}
	obj["natssubject"], _ = json.Marshal(e.Subject)
	obj["streamsequence"], _ = json.Marshal(e.Seq)
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(buf.String(), "\n")), nil
}
