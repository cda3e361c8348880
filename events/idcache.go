package events

// idCache remembers recently confirmed article ids so that re-polling a feed does not ask the
// server about every item again. It is bounded: the oldest ids are forgotten first, and a
// forgotten id is simply looked up again. Not safe for concurrent use; Store holds its lock.
type idCache struct {
	set  map[string]struct{}
	ring []string
	next int
}

func newIDCache(capacity int) *idCache {
	return &idCache{set: make(map[string]struct{}, capacity), ring: make([]string, capacity)}
}

func (c *idCache) has(id string) bool {
	_, ok := c.set[id]
	return ok
}

func (c *idCache) add(id string) {
	if c.has(id) {
		return
	}
	if old := c.ring[c.next]; old != "" {
		delete(c.set, old)
	}
	c.ring[c.next] = id
	c.set[id] = struct{}{}
	c.next = (c.next + 1) % len(c.ring)
}
