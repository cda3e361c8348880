package feeds

import "sync"

// Bounds of the body buffers kept for reuse. A buffer under minReusedBody is a small
// allocation anyway; one over maxReusedBody is a feed too rare to keep memory for.
const (
	minReusedBody = 32 << 10
	maxReusedBody = 1 << 20
)

// bodyBufs keeps the buffers of parsed bodies for the next fetches: a feed's document is
// hundreds of KB, and allocating one per poll (zeroed, and under the memory limit often on
// pages the runtime had just returned to the OS) was a sizeable share of a cold ingest's
// allocation. It holds at most max buffers of at most maxReusedBody each, outside the
// pipeline's budget; a fetch holds its buffer's capacity to the budget as it would a new one.
type bodyBufs struct {
	mu   sync.Mutex
	free [][]byte
	max  int
}

func newBodyBufs(max int) *bodyBufs { return &bodyBufs{free: make([][]byte, 0, max), max: max} }

// get returns a buffer for a body of about size bytes (the feed's last body), or nil: the
// smallest free one that holds size+1 bytes without being more than twice that.
func (b *bodyBufs) get(size int64) []byte {
	want := int(size) + 1
	b.mu.Lock()
	defer b.mu.Unlock()
	best := -1
	for i, buf := range b.free {
		if c := cap(buf); c >= want && c <= 2*want && (best < 0 || c < cap(b.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	buf := b.free[best]
	last := len(b.free) - 1
	b.free[best], b.free[last] = b.free[last], nil
	b.free = b.free[:last]
	return buf[:0]
}

// put offers a body the pipeline is done with. When the list is full it replaces the
// smallest buffer if buf is larger, so the list keeps the sizes that save the most.
func (b *bodyBufs) put(buf []byte) {
	c := cap(buf)
	if c < minReusedBody || c > maxReusedBody {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) < b.max {
		b.free = append(b.free, buf[:0])
		return
	}
	small := 0
	for i := range b.free {
		if cap(b.free[i]) < cap(b.free[small]) {
			small = i
		}
	}
	if cap(b.free[small]) < c {
		b.free[small] = buf[:0]
	}
}
