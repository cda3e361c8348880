package feeds

import "testing"

func TestBodyBufs(t *testing.T) {
	b := newBodyBufs(2)
	if got := b.get(100 << 10); got != nil {
		t.Fatalf("get from an empty list = cap %d, want nil", cap(got))
	}
	b.put(make([]byte, 10, 16<<10))          // too small to keep
	b.put(make([]byte, 0, 2<<20))            // too large to keep
	b.put(make([]byte, 5, 300<<10))          // kept
	b.put(make([]byte, 0, 120<<10))          // kept
	b.put(make([]byte, 0, 100<<10))          // full: smaller than both, dropped
	if got := b.get(400 << 10); got != nil { // none holds 400 KB
		t.Fatalf("get(400 KB) = cap %d, want nil", cap(got))
	}
	if got := b.get(100 << 10); cap(got) != 120<<10 || len(got) != 0 { // the smallest that fits
		t.Fatalf("get(100 KB) = len %d cap %d, want len 0 cap 120 KB", len(got), cap(got))
	}
	if got := b.get(100 << 10); got != nil { // 300 KB is more than twice 100 KB
		t.Fatalf("get(100 KB) = cap %d, want nil (too large a buffer for the body)", cap(got))
	}
	if got := b.get(200 << 10); cap(got) != 300<<10 {
		t.Fatalf("get(200 KB) = cap %d, want 300 KB", cap(got))
	}
	if got := b.get(200 << 10); got != nil {
		t.Fatalf("get from an emptied list = cap %d, want nil", cap(got))
	}
}
