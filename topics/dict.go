package topics

import (
	"encoding/binary"
	"math/bits"
)

// dict maps folded tokens to term ids: an open-addressing hash table over
// byte slices with a hash tuned for short keys. Most document tokens are in
// no query; they cost one hash and usually one probe. The table is fixed at
// compile time, so hostile documents cannot lengthen its probe chains.
type dict struct {
	slots []dictSlot // len is a power of two, at most half full
	keys  []byte     // all keys, concatenated
}

type dictSlot struct {
	hash uint64
	off  uint32
	n    uint32 // key length; 0 marks an empty slot
	id   int32
}

func newDict(terms map[string]int32) dict {
	size := 8
	for size < 2*len(terms) {
		size *= 2
	}
	d := dict{slots: make([]dictSlot, size)}
	for k, id := range terms {
		h := hashKey([]byte(k))
		i := h & uint64(size-1)
		for d.slots[i].n != 0 {
			i = (i + 1) & uint64(size-1)
		}
		d.slots[i] = dictSlot{hash: h, off: uint32(len(d.keys)), n: uint32(len(k)), id: id}
		d.keys = append(d.keys, k...)
	}
	return d
}

// lookup returns the id of key, or -1.
func (d *dict) lookup(key []byte) int32 {
	h := hashKey(key)
	mask := uint64(len(d.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.n == 0 {
			return -1
		}
		if s.hash == h && string(d.keys[s.off:s.off+s.n]) == string(key) {
			return s.id
		}
	}
}

// hashKey hashes a short byte string eight bytes at a time with a
// multiply-fold mix.
func hashKey(b []byte) uint64 {
	const m1, m2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	h := uint64(len(b)) * m1
	for len(b) >= 8 {
		h = mix(h^binary.LittleEndian.Uint64(b), m2)
		b = b[8:]
	}
	var v uint64
	for i, c := range b {
		v |= uint64(c) << (8 * i)
	}
	return mix(h^v, m2)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
