package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/spike"
	"github.com/newswatch/newswatch/api"
	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
)

// rulesFrom turns the config's match rules into engine rules.
func rulesFrom(cfg *config.Config) []alerts.Rule {
	names := topicNames(cfg)
	var rules []alerts.Rule
	for _, a := range cfg.Alerts {
		if a.Kind == notify.KindMatch {
			rules = append(rules, alerts.Rule{Topic: a.Topic, TopicName: names[a.Topic], GroupWait: a.GroupWait, MinInterval: a.MinInterval})
		}
	}
	return rules
}

// spikeRulesFrom returns the config's spike rules, and a LearnOnly rule for every other topic
// (the detector learns the volume of all of them).
func spikeRulesFrom(cfg *config.Config) []spike.Rule {
	names := topicNames(cfg)
	byTopic := map[string]spike.Rule{}
	for _, a := range cfg.Alerts {
		if a.Kind == notify.KindSpike {
			byTopic[a.Topic] = spike.Rule{
				Topic: a.Topic, TopicName: names[a.Topic], Window: a.Window, Threshold: a.Threshold,
				MinSources: a.MinSources, Cooldown: a.Cooldown, Location: a.Location(),
			}
		}
	}
	rules := make([]spike.Rule, 0, len(cfg.Topics))
	for _, t := range cfg.Topics {
		r, ok := byTopic[t.ID]
		if !ok {
			r = spike.Rule{Topic: t.ID, TopicName: t.Name, LearnOnly: true}
		}
		rules = append(rules, r)
	}
	return rules
}

func digestRulesFrom(cfg *config.Config) []alerts.DigestRule {
	names := topicNames(cfg)
	var rules []alerts.DigestRule
	for _, a := range cfg.Alerts {
		if a.Kind == notify.KindDigest {
			rules = append(rules, alerts.DigestRule{Topic: a.Topic, TopicName: names[a.Topic], Schedule: a.Schedule, SendEmpty: a.SendEmpty, Top: a.Top})
		}
	}
	return rules
}

func topicNames(cfg *config.Config) map[string]string {
	names := make(map[string]string, len(cfg.Topics))
	for _, t := range cfg.Topics {
		names[t.ID] = t.Name
	}
	return names
}

// storyIndex is the stories projection as the match engine's story index: the engine's
// runner waits for the projection to fold a match before the engine asks which story it is
// in. There is no other rule to fall back on: while the projection is behind (rebuilding
// from the stream, say), alerts wait, and a warning says so.
type storyIndex struct {
	*stories.Projection // StoryOf, IsCopy, JoinSimilarity
	proj                *events.Projector
	log                 *slog.Logger
}

// storyWaitWarn is how often a wait for the stories projection is reported.
const storyWaitWarn = 10 * time.Second

// WaitFolded implements alerts.StoryWaiter.
func (x *storyIndex) WaitFolded(ctx context.Context, seq uint64) error {
	start := time.Now()
	for !x.proj.WaitApplied(seq, storyWaitWarn) {
		if err := ctx.Err(); err != nil {
			return err
		}
		x.log.Warn("stories projection behind; match alerts wait for it",
			"stream_seq", seq, "applied", x.proj.Applied(), "waited", time.Since(start).Round(time.Second).String())
	}
	return nil
}

func configSilences(cfg *config.Config) []alerts.Silence {
	out := make([]alerts.Silence, len(cfg.Silences))
	for i, s := range cfg.Silences {
		out[i] = alerts.Silence{ID: fmt.Sprintf("config-%d", i), Topic: s.Topic, Until: s.UntilTime(), Comment: s.Comment, FromConfig: true}
	}
	return out
}

const silenceStateKey = "silences"

// apiSilences is the revision of the stored API silences this instance holds; mu serialises
// a change through this instance's API (changeSilences) with following a change made through
// another instance (syncSilences), so neither undoes the other.
type apiSilences struct {
	mu  sync.Mutex
	rev uint64
}

// loadSilences restores the silences created through the API.
func (a *App) loadSilences(ctx context.Context) error {
	data, rev, err := a.conn.GetStateRev(ctx, silenceStateKey)
	a.apiSilences.rev = rev
	if err != nil || data == nil {
		return err
	}
	var list []alerts.Silence
	if err := json.Unmarshal(data, &list); err != nil {
		a.log.Warn("stored silences unreadable; starting without them", "error", err)
		return nil
	}
	a.silences.SetAPI(slices.DeleteFunc(list, func(s alerts.Silence) bool { return !s.Until.After(a.deps.Now()) }))
	return nil
}

// silenceStore implements the API's silence endpoints and persists API silences.
type silenceStore struct{ a *App }

func (s silenceStore) List() []alerts.Silence { return s.a.silences.Active() }

func (s silenceStore) Add(ctx context.Context, topic string, until time.Time, comment string) (alerts.Silence, error) {
	known := false
	for _, t := range s.a.config().Topics {
		known = known || t.ID == topic
	}
	if !known {
		return alerts.Silence{}, fmt.Errorf("%w %q", api.ErrSilenceTopic, topic)
	}
	x := s.a.silences.Stamp(alerts.Silence{Topic: topic, Until: until, Comment: comment})
	err := s.a.changeSilences(ctx, func(held []alerts.Silence) ([]alerts.Silence, error) {
		return append(held, x), nil
	})
	if err != nil {
		return alerts.Silence{}, err
	}
	return x, nil
}

func (s silenceStore) Remove(ctx context.Context, id string) error {
	return s.a.changeSilences(ctx, func(held []alerts.Silence) ([]alerts.Silence, error) {
		i := slices.IndexFunc(held, func(x alerts.Silence) bool { return x.ID == id })
		if i < 0 {
			return nil, alerts.ErrSilenceNotFound
		}
		return slices.Delete(held, i, i+1), nil
	})
}

// changeSilences stores a change to the API silences, then holds the new set; when storing
// fails nothing changes. change gets the API silences held, not yet expired, and returns the
// new set. The stored set is read first, so that a silence made through another instance a
// moment ago, not yet followed, can be removed; the write is conditional on its revision and
// made again on the set another instance stored meanwhile (changeState), so silences made
// through two instances at once are both kept.
func (a *App) changeSilences(ctx context.Context, change func(held []alerts.Silence) ([]alerts.Silence, error)) error {
	a.apiSilences.mu.Lock()
	defer a.apiSilences.mu.Unlock()
	// A stored set that is lost or unreadable is written over with the silences held.
	adopt := func(ctx context.Context) error {
		err := a.adoptSilencesLocked(ctx)
		if errors.Is(err, errSilencesUnusable) {
			a.log.Warn("stored silences replaced by the ones held", "component", "alerts", "error", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("store silences: %w", err)
		}
		return nil
	}
	if err := adopt(ctx); err != nil {
		return err
	}
	var next []alerts.Silence
	rev, err := changeState(ctx, a.conn, silenceStateKey, func() uint64 { return a.apiSilences.rev },
		func() ([]byte, error) {
			var err error
			if next, err = change(a.silences.API()); err != nil {
				return nil, err
			}
			if next == nil {
				next = []alerts.Silence{} // stored as [], as before
			}
			return json.Marshal(next)
		}, adopt)
	if err != nil {
		return err
	}
	a.silences.SetAPI(next)
	a.apiSilences.rev = rev
	return nil
}

// syncSilences makes this instance's API silences the stored ones when they are newer than
// what it holds: a silence made or expired through another instance (followState).
func (a *App) syncSilences(ctx context.Context) error {
	a.apiSilences.mu.Lock()
	defer a.apiSilences.mu.Unlock()
	return a.adoptSilencesLocked(ctx)
}

// errSilencesUnusable means the stored API silences are lost or do not decode.
var errSilencesUnusable = errors.New("stored silences unusable")

// adoptSilencesLocked reads the stored API silences and holds them when they are newer than
// the ones held. The caller holds a.apiSilences.mu.
func (a *App) adoptSilencesLocked(ctx context.Context) error {
	data, rev, err := a.conn.GetStateRev(ctx, silenceStateKey)
	if err != nil {
		return fmt.Errorf("read silences: %w", err)
	}
	if data == nil && rev == 0 {
		// Absent or deleted: nothing to adopt, and the next change creates the key anew with
		// the silences held (a write over the revision held would be refused for ever).
		a.apiSilences.rev = 0
		return nil
	}
	if rev <= a.apiSilences.rev {
		return nil
	}
	var list []alerts.Silence
	if data == nil { // the value's object is gone (GetStateRev logged it)
		a.apiSilences.rev = rev // the next change through this instance writes the silences held
		return fmt.Errorf("%w: lost (state key %s, revision %d), keeping the ones held", errSilencesUnusable, silenceStateKey, rev)
	}
	if err := json.Unmarshal(data, &list); err != nil {
		a.apiSilences.rev = rev // the same version would fail again; wait for the next
		return fmt.Errorf("%w: unreadable (state key %s, revision %d), keeping the ones held: %w", errSilencesUnusable, silenceStateKey, rev, err)
	}
	a.silences.SetAPI(list)
	a.apiSilences.rev = rev
	return nil
}
