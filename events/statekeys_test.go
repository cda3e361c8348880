package events_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// State keys are written with compare-and-set: a write naming a stale revision fails
// with ErrStateChanged, a deleted key can be created again, and listing sees what is there.
func TestStateKeysCompareAndSet(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	ctx := t.Context()
	if data, rev, err := c.GetStateRev(ctx, "websub.a"); data != nil || rev != 0 || err != nil {
		t.Fatalf("absent key = %q, %d, %v", data, rev, err)
	}
	rev, err := c.PutStateIf(ctx, "websub.a", []byte("1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStateIf(ctx, "websub.a", []byte("x"), 0); !errors.Is(err, events.ErrStateChanged) {
		t.Errorf("create over an existing key = %v, want a conflict", err)
	}
	rev2, err := c.PutStateIf(ctx, "websub.a", []byte("2"), rev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStateIf(ctx, "websub.a", []byte("3"), rev); !errors.Is(err, events.ErrStateChanged) {
		t.Errorf("update with a stale revision = %v, want a conflict", err)
	}
	if data, got, err := c.GetStateRev(ctx, "websub.a"); string(data) != "2" || got != rev2 || err != nil {
		t.Errorf("read back %q rev %d (%v), want 2 rev %d", data, got, err, rev2)
	}
	if _, err := c.PutStateIf(ctx, "websub.b", []byte("b"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStateIf(ctx, "other", []byte("o"), 0); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteState(ctx, "websub.b"); err != nil {
		t.Fatal(err)
	}
	var listed []string
	err = c.ListState(ctx, "websub", func(key string, data []byte) error {
		listed = append(listed, key+"="+string(data))
		return nil
	})
	if err != nil || strings.Join(listed, ",") != "a=2" {
		t.Errorf("listed %v (%v), want [a=2]", listed, err)
	}
	if _, err := c.PutStateIf(ctx, "websub.b", []byte("again"), 0); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

// Listing returns every key under the prefix once with its newest value, a large one read
// from its object, and none that was deleted or lies outside the prefix.
func TestListStateManyKeys(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	ctx := t.Context()
	start := time.Now()
	if err := c.ListState(ctx, "websub", func(key string, _ []byte) error {
		t.Errorf("listed %s before any was stored", key)
		return nil
	}); err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("listing no keys: %v after %v", err, time.Since(start))
	}
	want := map[string]string{}
	for i := range 300 {
		key := fmt.Sprintf("f%03d", i)
		if err := c.PutState(ctx, "websub."+key, []byte("old")); err != nil {
			t.Fatal(err)
		}
		if err := c.PutState(ctx, "websub."+key, []byte(key)); err != nil {
			t.Fatal(err)
		}
		want[key] = key
	}
	large := strings.Repeat("x", 600<<10)
	if err := c.PutState(ctx, "websub.large", []byte(large)); err != nil {
		t.Fatal(err)
	}
	want["large"] = large
	if err := c.DeleteState(ctx, "websub.f007"); err != nil {
		t.Fatal(err)
	}
	delete(want, "f007")
	if err := c.PutState(ctx, "websubx.f001", []byte("outside")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err := c.ListState(ctx, "websub", func(key string, data []byte) error {
		if _, twice := got[key]; twice {
			t.Errorf("%s listed twice", key)
		}
		got[key] = string(data)
		return nil
	})
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("listed %d keys (%v), want %d", len(got), err, len(want))
	}
}

// BenchmarkListState lists 1,000 small state documents (a feed's WebSub subscription each).
func BenchmarkListState(b *testing.B) {
	c := connect(b, b.TempDir())
	defer c.Close()
	ctx := b.Context()
	for i := range 1000 {
		if err := c.PutState(ctx, fmt.Sprintf("websub.f%04d", i), []byte(`{"feed":"f","hub":"https://hub.example/","expires":"2026-12-03T10:00:00Z"}`)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		if err := c.ListState(ctx, "websub", func(string, []byte) error { n++; return nil }); err != nil || n != 1000 {
			b.Fatalf("listed %d, %v", n, err)
		}
	}
}
