package topics

import (
	"math/bits"
	"slices"
)

// prefixTrie maps folded prefixes to term ids. It is a byte trie flattened
// into arrays; each node keeps a 256-bit set of the bytes it has children
// for, so a step is a bit test and a population count, without searching.
// Walking a token costs at most one step per byte and usually stops after
// two or three, where no prefix continues.
type prefixTrie struct {
	nodes []trieNode // nodes[0] is the root; empty when there are no prefixes
	kids  []int32    // children of every node, each node's in byte order
	// heads is a bit set over a hash of the first three bytes of every
	// prefix: a small, cache-resident test that lets most tokens (the, and,
	// said) skip the walk. It is only used when every prefix has at least
	// three bytes; minLen is the length of the shortest prefix.
	heads  [1 << 16 / 64]uint64
	minLen int
}

// headBit hashes the first three bytes of b into heads.
func headBit(b []byte) uint32 {
	return (uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16) * 0x9e3779b1 >> 16
}

type trieNode struct {
	id    int32     // term id of the prefix ending here, or -1
	first int32     // kids[first:] holds this node's children
	set   [4]uint64 // bytes that have a child
	below [4]uint8  // children for bytes in set[:i], to rank quickly
}

// tmpTrie is the pointer-based trie used while building.
type tmpTrie struct {
	id   int32
	kids map[byte]*tmpTrie
}

func buildTrie(prefixes map[string]int32) prefixTrie {
	var t prefixTrie
	if len(prefixes) == 0 {
		return t
	}
	top := &tmpTrie{id: -1, kids: map[byte]*tmpTrie{}}
	for p, id := range prefixes {
		n := top
		for i := 0; i < len(p); i++ {
			k := n.kids[p[i]]
			if k == nil {
				k = &tmpTrie{id: -1, kids: map[byte]*tmpTrie{}}
				n.kids[p[i]] = k
			}
			n = k
		}
		n.id = id
		if t.minLen == 0 || len(p) < t.minLen {
			t.minLen = len(p)
		}
		if len(p) >= 3 {
			h := headBit([]byte(p))
			t.heads[h>>6] |= 1 << (h & 63)
		}
	}
	// Breadth-first, so each node's children are contiguous in kids.
	t.nodes = []trieNode{{id: top.id}}
	queue := []*tmpTrie{top}
	for idx := 0; idx < len(queue); idx++ {
		n := queue[idx]
		node := &t.nodes[idx]
		node.first = int32(len(t.kids))
		keys := make([]byte, 0, len(n.kids))
		for c := range n.kids {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		for _, c := range keys {
			node.set[c>>6] |= 1 << (c & 63)
			t.kids = append(t.kids, int32(len(queue)))
			queue = append(queue, n.kids[c])
			t.nodes = append(t.nodes, trieNode{id: n.kids[c].id})
			node = &t.nodes[idx] // append may have moved it
		}
		for i := 1; i < 4; i++ {
			node.below[i] = node.below[i-1] + uint8(bits.OnesCount64(node.set[i-1]))
		}
	}
	return t
}

// match appends to dst the ids of all prefixes of tok.
func (t *prefixTrie) match(tok []byte, dst []int32) []int32 {
	if len(tok) < t.minLen || len(t.nodes) == 0 {
		return dst
	}
	if t.minLen >= 3 {
		if h := headBit(tok); t.heads[h>>6]&(1<<(h&63)) == 0 {
			return dst
		}
	}
	n := &t.nodes[0]
	for _, c := range tok {
		w, b := c>>6, c&63
		set := n.set[w]
		if set&(1<<b) == 0 {
			break
		}
		rank := int32(n.below[w]) + int32(bits.OnesCount64(set&(1<<b-1)))
		n = &t.nodes[t.kids[n.first+rank]]
		if n.id >= 0 {
			dst = append(dst, n.id)
		}
	}
	return dst
}
