package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/topics"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// backfillMatches derives, from stored articles, the matches of the current topics (or of one)
// that the log lacks: a new topic's history, or a changed topic's under its new query version.
// They are marked as backfill, so summaries count them and alerts ignore them.
func backfillMatches(ctx context.Context, conn *events.Conn, cfg *config.Config, only string, r events.Range,
	progress events.Progress) (events.ReplayStats, error) {
	var list []topics.Topic
	for _, t := range topicList(cfg) {
		if only == "" || t.ID == only {
			list = append(list, t)
		}
	}
	if len(list) == 0 {
		return events.ReplayStats{}, fmt.Errorf("no topic %q in the config", only)
	}
	m, err := topics.Compile(list)
	if err != nil {
		return events.ReplayStats{}, err
	}
	tags, err := storedTags(ctx, conn, cfg)
	if err != nil {
		return events.ReplayStats{}, err
	}
	known, err := knownMatches(ctx, conn, list)
	if err != nil {
		return events.ReplayStats{}, err
	}
	out := conn.NewAppender()
	now := time.Now().UTC()
	// Full-text events are read too, as the live matcher does (docs/events.md).
	st, err := conn.Replay(ctx, events.ArticleStream, []string{events.ArticleSubjectPrefix + "*", events.FullTextSubjectPrefix + "*"}, r, progress,
		func(e events.Event) (bool, error) {
			a, err := events.ParseArticle(e.Data)
			if err != nil {
				return false, nil
			}
			derived := false
			for _, h := range m.Match(matching.DocOf(a, tags)) {
				key := h.Topic + "\x00" + a.ID
				if known[key] {
					continue
				}
				known[key] = true
				match := matching.NewMatch(a, e.Seq, h, topics.Version(queryOf(list, h.Topic)), now)
				match.Backfill = true
				msg, err := events.MatchMessage(match)
				if err != nil {
					return false, err
				}
				if err := out.Add(ctx, msg); err != nil {
					return false, err
				}
				derived = true
			}
			return derived, nil
		})
	if err != nil {
		return st, err
	}
	return st, out.Flush(ctx)
}

func queryOf(list []topics.Topic, id string) string {
	for _, t := range list {
		if t.ID == id {
			return t.Query
		}
	}
	return ""
}

// knownMatches lists the (topic, article) pairs that already have a match under the topic's
// current query version.
func knownMatches(ctx context.Context, conn *events.Conn, list []topics.Topic) (map[string]bool, error) {
	known := map[string]bool{}
	subjects := make([]string, len(list))
	version := map[string]string{}
	for i, t := range list {
		subjects[i] = events.MatchSubjectPrefix + t.ID
		version[t.ID] = topics.Version(t.Query)
	}
	_, err := conn.Replay(ctx, events.MatchStream, subjects, events.Range{}, nil, func(e events.Event) (bool, error) {
		m, err := events.ParseMatch(e.Data)
		if err == nil && m.QueryVersion == version[m.Topic] {
			known[m.Topic+"\x00"+m.ArticleID] = true
		}
		return true, nil
	})
	return known, err
}
