package alerts

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Silence suppresses a topic's alerts until it expires. Matches during a silence never fire,
// not even after it ends.
type Silence struct {
	ID        string    `json:"id"`
	Topic     string    `json:"topic"`
	Until     time.Time `json:"until"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// FromConfig marks silences defined in the config file; the API cannot remove them.
	FromConfig bool `json:"from_config,omitempty"`
}

// ErrSilenceNotFound is returned when removing an unknown or config-defined silence.
var ErrSilenceNotFound = errors.New("alerts: no such silence (config silences are removed in the config)")

// Silences is the set of silences, safe for concurrent use.
type Silences struct {
	mu   sync.RWMutex
	list []Silence
	now  func() time.Time
}

// NewSilences returns a set holding the given silences.
func NewSilences(list []Silence, now func() time.Time) *Silences {
	return &Silences{list: slices.Clone(list), now: now}
}

// Silenced implements Silencer.
func (s *Silences) Silenced(topic string, at time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, x := range s.list {
		if x.Topic == topic && at.Before(x.Until) {
			return true
		}
	}
	return false
}

// SilencedBy returns the id of a silence that holds the topic at a time.
func (s *Silences) SilencedBy(topic string, at time.Time) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, x := range s.list {
		if x.Topic == topic && at.Before(x.Until) {
			return x.ID, true
		}
	}
	return "", false
}

// Add stores a new silence and returns it with its id.
func (s *Silences) Add(x Silence) Silence {
	x = s.Stamp(x)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, x)
	return x
}

// Stamp returns x as a new API-defined silence, with a fresh id and its creation time, without
// holding it: a caller that stores silences elsewhere first (cmd/newswatch) holds it with
// SetAPI once stored.
func (s *Silences) Stamp(x Silence) Silence {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	x.ID = "sil-" + hex.EncodeToString(b)
	x.CreatedAt = s.now().UTC()
	x.FromConfig = false
	return x
}

// Remove deletes an API-defined silence.
func (s *Silences) Remove(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.list, func(x Silence) bool { return x.ID == id && !x.FromConfig })
	if i < 0 {
		return ErrSilenceNotFound
	}
	s.list = slices.Delete(s.list, i, i+1)
	return nil
}

// SetConfig replaces the config-defined silences (config reload), keeping the API ones.
func (s *Silences) SetConfig(fromConfig []Silence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.DeleteFunc(s.list, func(x Silence) bool { return x.FromConfig })
	for _, x := range fromConfig {
		x.FromConfig = true
		s.list = append(s.list, x)
	}
}

// Active lists the silences not yet expired, soonest expiry first. API-defined ones (the
// persisted part) are those with FromConfig false.
func (s *Silences) Active() []Silence {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []Silence{}
	for _, x := range s.list {
		if now.Before(x.Until) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b Silence) int {
		if c := a.Until.Compare(b.Until); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// API lists the API-defined silences not yet expired (the part that is stored), soonest expiry
// first.
func (s *Silences) API() []Silence {
	return slices.DeleteFunc(s.Active(), func(x Silence) bool { return x.FromConfig })
}

// SetAPI replaces the API-defined silences with list (the stored set, as this instance or
// another one changed it), keeping the config-defined ones.
func (s *Silences) SetAPI(list []Silence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.DeleteFunc(s.list, func(x Silence) bool { return !x.FromConfig })
	for _, x := range list {
		x.FromConfig = false
		s.list = append(s.list, x)
	}
}
