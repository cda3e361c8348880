package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// State documents of the match alert runner, in the newswatch_projections bucket.
const (
	// rulesStateKey holds when each topic's match rule came into existence: matches made
	// before it are history, later ones are live and fire after any downtime.
	rulesStateKey = "alerts.rules"
	// suppressedStateKey is followed by the topic id: its latest suppressions.
	suppressedStateKey = "alerts.suppressed."
)

// restoreRules reads when each rule came into existence, and each topic's suppressions. A
// rule without a record (new, or from before this record existed) starts when the runner
// was made. r.mu is held.
func (r *Runner) restoreRules(ctx context.Context) error {
	data, err := r.log.GetState(ctx, rulesStateKey)
	if err != nil {
		return fmt.Errorf("alert rules state: %w", err)
	}
	since := map[string]time.Time{}
	if data != nil {
		if err := json.Unmarshal(data, &since); err != nil {
			r.logger.Warn("alert rules state unreadable; every rule starts now", "error", err)
			since = map[string]time.Time{}
		}
	}
	r.since, r.sinceDirty = since, false
	r.engine.SetRules(r.withSince(r.created))
	if r.sinceDirty {
		// Saved before any match is read: a rule's start must not move at the next start.
		if err := r.putRules(ctx); err != nil {
			return err
		}
	}
	for _, rule := range r.rules {
		data, err := r.log.GetState(ctx, suppressedStateKey+rule.Topic)
		if err != nil {
			return fmt.Errorf("suppressions of %s: %w", rule.Topic, err)
		}
		if data == nil {
			continue
		}
		if err := r.suppressed.restore(rule.Topic, data); err != nil {
			r.logger.Warn("saved suppressions unreadable; starting without them", "topic", rule.Topic, "error", err)
		}
	}
	return nil
}

// putRules saves the rules' start times. r.mu is held.
func (r *Runner) putRules(ctx context.Context) error {
	data, err := json.Marshal(r.since)
	if err != nil {
		return err
	}
	if err := r.log.PutState(ctx, rulesStateKey, data); err != nil {
		return fmt.Errorf("save alert rules state: %w", err)
	}
	r.sinceDirty = false
	return nil
}

// saveState saves the rules' start times and the suppressions that changed.
func (r *Runner) saveState(ctx context.Context) {
	r.mu.Lock()
	if r.sinceDirty {
		if err := r.putRules(ctx); err != nil {
			r.logger.Warn("alert rules state not saved", "error", err)
		}
	}
	r.mu.Unlock()
	docs := r.suppressed.dirtyTopics()
	for _, topic := range sortedKeys(docs) {
		if err := r.log.PutState(ctx, suppressedStateKey+topic, docs[topic]); err != nil {
			r.logger.Warn("suppressions not saved", "topic", topic, "error", err)
			r.suppressed.markDirty(topic)
		}
	}
}

// suppress records why a match did not alert: in the log the API reads, in the counter,
// and in one debug line.
func (r *Runner) suppress(s Suppression) {
	r.suppressed.Add(s)
	r.m.suppressedOne(s.Topic, s.Reason)
	r.logger.Debug("match suppressed", "topic", s.Topic, "article", s.ArticleID, "stream_seq", s.StreamSeq,
		"reason", s.Reason, "folded_into", s.FoldedInto, "story", s.Story, "folded_by", s.FoldedBy,
		"similarity", s.Similarity, "silence", s.Silence, "rule_since", s.RuleSince)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
