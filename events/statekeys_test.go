package events_test

import (
	"errors"
	"strings"
	"testing"

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
