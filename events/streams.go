package events

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream and bucket names.
const (
	ArticleStream    = "NEWSWATCH_ARTICLES"
	PollStream       = "NEWSWATCH_POLLS"
	ProjectionBucket = "newswatch_projections"
)

// PollRetention is how long poll events are kept; feed health keeps its own snapshot, so only
// history older than this is lost, never state.
const PollRetention = 90 * 24 * time.Hour

// PollDuplicates is NEWSWATCH_POLLS' duplicate window. A poll event is sent by one publish
// call and never again (a failed call loses it, with a metric), and a call lasts at most
// apiTimeout, so the window covers the one-by-one retry of a refused batch three times over.
// The server keeps the window's message ids in memory: 2 minutes was 40,000 ids at 10,000
// feeds polled every 30 s.
const PollDuplicates = 30 * time.Second

// ArticleDuplicates is NEWSWATCH_ARTICLES' duplicate window. The server keeps every message
// id of the window in memory (about 150 bytes each): an hour was every article of a 10,000-feed
// cold ingest. Dedup forever is the id markers' job; the window only has to cover a publish
// retried by the same call or raced by another instance within seconds (the one-by-one retry
// of a refused batch, two instances' batches of the same article, a full-text batch retried
// after a lost answer).
const ArticleDuplicates = 2 * time.Minute

// apiTimeout bounds every JetStream API call so a cluster without a leader cannot block forever.
const apiTimeout = 10 * time.Second

func streamConfigs(replicas int) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        ArticleStream,
			Description: "newswatch article events (source of truth) and article-id markers",
			Subjects:    []string{ArticleSubjectPrefix + "*", articleIDSubjectPrefix + "*", FullTextSubjectPrefix + "*"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Replicas:    replicas,
			// Never age out, never delete: the log is the source of truth.
			MaxAge:             0,
			DenyDelete:         true,
			DenyPurge:          true,
			AllowAtomicPublish: true,
			AllowDirect:        true,
			Duplicates:         ArticleDuplicates,
		},
		{
			Name:               MatchStream,
			Description:        "newswatch match events: (article, topic, query version) facts",
			Subjects:           []string{MatchSubjectPrefix + "*"},
			Storage:            jetstream.FileStorage,
			Retention:          jetstream.LimitsPolicy,
			Replicas:           replicas,
			DenyDelete:         true,
			DenyPurge:          true,
			AllowAtomicPublish: true,
			AllowDirect:        true,
			Duplicates:         time.Hour,
		},
		{
			Name:        AlertStream,
			Description: "newswatch alerts as fired (payload: the alert JSON; CloudEvents attributes in ce- headers)",
			Subjects:    []string{AlertSubjectPrefix + "*"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Replicas:    replicas,
			DenyDelete:  true,
			DenyPurge:   true,
			AllowDirect: true,
			Duplicates:  time.Hour,
		},
		{
			Name:        DeadLetterStream,
			Description: "newswatch alerts that a receiver never accepted, kept for inspection",
			Subjects:    []string{DeadLetterSubjectPrefix + "*"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Replicas:    replicas,
			MaxAge:      90 * 24 * time.Hour,
			Duplicates:  time.Hour,
		},
		{
			Name:               PollStream,
			Description:        "newswatch feed poll outcomes",
			Subjects:           []string{PollSubjectPrefix + "*"},
			Storage:            jetstream.FileStorage,
			Retention:          jetstream.LimitsPolicy,
			Replicas:           replicas,
			MaxAge:             PollRetention,
			AllowDirect:        true,
			AllowAtomicPublish: true,
			// The server keeps every message id of the window in memory: an hour of polls is
			// 1.2 million ids at 10,000 feeds polled every 30 s. A poll event is never re-sent
			// later than its own publish call, so the client's retries are all it must cover.
			Duplicates: PollDuplicates,
		},
	}
}

// EnsureStreams creates or updates the streams and buckets newswatch needs.
func (c *Conn) EnsureStreams(ctx context.Context) error {
	for _, sc := range streamConfigs(c.Replicas) {
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		_, err := c.JS.CreateOrUpdateStream(cctx, sc)
		cancel()
		if err != nil {
			return fmt.Errorf("create stream %s: %w", sc.Name, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err := c.JS.CreateOrUpdateKeyValue(cctx, jetstream.KeyValueConfig{
		Bucket:      ProjectionBucket,
		Description: "newswatch projection snapshots: state and last applied sequence together",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	})
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", ProjectionBucket, err)
	}
	octx, ocancel := context.WithTimeout(ctx, apiTimeout)
	defer ocancel()
	_, err = c.JS.CreateOrUpdateObjectStore(octx, jetstream.ObjectStoreConfig{
		Bucket:      SnapshotObjectBucket,
		Description: "newswatch snapshots and state too large for " + ProjectionBucket + ", which points at them",
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	})
	if err != nil {
		return fmt.Errorf("create object store %s: %w", SnapshotObjectBucket, err)
	}
	return nil
}

// StreamsPresent reports whether every stream exists; used by readiness.
func (c *Conn) StreamsPresent(ctx context.Context) error {
	for _, sc := range streamConfigs(c.Replicas) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.JS.Stream(cctx, sc.Name)
		cancel()
		if err != nil {
			return fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// Storage reports the file storage JetStream uses for this account and its limit: the
// account's limit, else (embedded) the server's, which it derives from the free disk; 0 when
// no limit is known.
func (c *Conn) Storage(ctx context.Context) (used uint64, limit int64, err error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	info, err := c.JS.AccountInfo(cctx)
	if err != nil {
		return 0, 0, err
	}
	limit = info.Limits.MaxStore
	if limit <= 0 && c.srv != nil {
		if jc := c.srv.JetStreamConfig(); jc != nil {
			limit = jc.MaxStore
		}
	}
	return info.Store, max(limit, 0), nil
}
