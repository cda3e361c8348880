package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/events"
)

// storedSilenceIDs are the ids of the API silences stored now, sorted.
func storedSilenceIDs(t *testing.T, a *App) []string {
	t.Helper()
	data, err := a.conn.GetState(t.Context(), silenceStateKey)
	if err != nil {
		t.Fatal(err)
	}
	var list []alerts.Silence
	if data != nil {
		if err := json.Unmarshal(data, &list); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]string, len(list))
	for i, x := range list {
		ids[i] = x.ID
	}
	slices.Sort(ids)
	return ids
}

// A silence made or removed through this instance is written over the stored set, not over the
// set it holds: a silence another writer (another instance of a cluster) stored meanwhile is
// kept, one it stored can be removed at once, and a deleted key does not block changes.
func TestSilenceChangesKeepOtherWrites(t *testing.T) {
	fs := newFeedServer(t)
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, "topics:\n  - {id: kursk, name: Kursk, query: 'Kursk'}\n"))
	ctx := t.Context()
	store := silenceStore{r.app}
	until := time.Now().Add(time.Hour)
	mine, err := store.Add(ctx, "kursk", until, "mine")
	if err != nil {
		t.Fatal(err)
	}
	// Another writer adds a silence this instance has not followed (nothing follows the key
	// without cluster mode, as a watch can lag with it).
	other := alerts.Silence{ID: "sil-other", Topic: "kursk", Until: until, CreatedAt: time.Now().UTC()}
	data, _ := json.Marshal([]alerts.Silence{mine, other})
	if err := r.app.conn.PutState(ctx, silenceStateKey, data); err != nil {
		t.Fatal(err)
	}
	second, err := store.Add(ctx, "kursk", until, "second")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{mine.ID, other.ID, second.ID}
	slices.Sort(want)
	if got := storedSilenceIDs(t, r.app); !slices.Equal(got, want) {
		t.Fatalf("stored after a change over another writer's: %v, want %v", got, want)
	}
	if got := len(store.List()); got != 3 {
		t.Errorf("the instance holds %d silences, want 3", got)
	}

	// A silence only the other writer stored is removed through this instance.
	third := alerts.Silence{ID: "sil-third", Topic: "kursk", Until: until, CreatedAt: time.Now().UTC()}
	data, _ = json.Marshal([]alerts.Silence{mine, other, second, third})
	if err := r.app.conn.PutState(ctx, silenceStateKey, data); err != nil {
		t.Fatal(err)
	}
	if err := store.Remove(ctx, third.ID); err != nil {
		t.Fatalf("remove a silence another writer stored: %v", err)
	}
	if err := store.Remove(ctx, "sil-nothere"); !errors.Is(err, alerts.ErrSilenceNotFound) {
		t.Errorf("remove an unknown silence: %v, want ErrSilenceNotFound", err)
	}
	if got := storedSilenceIDs(t, r.app); !slices.Equal(got, want) {
		t.Fatalf("stored after removing the other writer's: %v, want %v", got, want)
	}

	// A deleted key: the next change creates it anew with the silences held.
	if err := r.app.conn.DeleteState(ctx, silenceStateKey); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := store.Remove(ctx2, other.ID); err != nil {
		t.Fatalf("remove after the key was deleted: %v", err)
	}
	want = slices.DeleteFunc(want, func(id string) bool { return id == other.ID })
	if got := storedSilenceIDs(t, r.app); !slices.Equal(got, want) {
		t.Fatalf("stored after the key was deleted: %v, want %v", got, want)
	}
}

// A change that keeps finding the document changed gives up after maxChangeAttempts with an
// error that says so and wraps events.ErrStateChanged, and writes nothing.
func TestChangeStateGivesUp(t *testing.T) {
	fs := newFeedServer(t)
	r := startApp(t, testConfig(t, t.TempDir(), fs.srv.URL, ""))
	ctx := t.Context()
	if err := r.app.conn.PutState(ctx, "contended", []byte(`"theirs"`)); err != nil {
		t.Fatal(err)
	}
	builds, adopts := 0, 0
	_, err := changeState(ctx, r.app.conn, "contended", func() uint64 { return 0 }, // never catches up
		func() ([]byte, error) { builds++; return []byte(`"mine"`), nil },
		func(context.Context) error { adopts++; return nil })
	if !errors.Is(err, events.ErrStateChanged) || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("err = %v, want ErrStateChanged and advice", err)
	}
	if builds != maxChangeAttempts || adopts != maxChangeAttempts-1 {
		t.Errorf("%d builds and %d adopts, want %d and %d", builds, adopts, maxChangeAttempts, maxChangeAttempts-1)
	}
	if data, err := r.app.conn.GetState(ctx, "contended"); err != nil || string(data) != `"theirs"` {
		t.Errorf("stored %s, %v; want the other writer's", data, err)
	}
	for attempt := 2; attempt <= maxChangeAttempts; attempt++ {
		if d := changePause(attempt); d <= 0 || d > 500*time.Millisecond {
			t.Errorf("pause before attempt %d = %v", attempt, d)
		}
	}
}
