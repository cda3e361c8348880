package events

import (
	"fmt"
	"testing"
)

// The id cache is bounded: past its capacity the oldest ids are forgotten first.
func TestIDCacheIsBounded(t *testing.T) {
	c := newIDCache(100)
	for i := range 250 {
		c.add(fmt.Sprintf("id-%d", i))
		c.add(fmt.Sprintf("id-%d", i)) // a repeat takes no second slot
	}
	if len(c.set) != 100 {
		t.Fatalf("cache holds %d ids, want its capacity 100", len(c.set))
	}
	for i := range 250 {
		if want := i >= 150; c.has(fmt.Sprintf("id-%d", i)) != want {
			t.Errorf("has(id-%d) = %v, want %v (the newest 100 are kept)", i, !want, want)
		}
	}
	if idCacheSize > 100_000 {
		t.Errorf("idCacheSize = %d: each id costs about 100 bytes of heap; keep it small", idCacheSize)
	}
}
