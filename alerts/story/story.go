// Package story tells whether two articles carry the same story, whatever their language:
// a syndicated copy (the same headline, the summary identical or lightly edited: a "Wire
// copy:" prefix, a dateline, another last sentence, other punctuation or case) is the same
// story; another article on the same subject, about another event, is not.
//
// A Fingerprint is a 64-bit SimHash of an article's title and summary, and two stories are
// the same when their fingerprints differ in at most Threshold bits. How the features and
// the threshold were chosen, with the measurements, is in docs/alerts-delivery.md and in
// the log of TestPairs (go test -v -run TestPairs ./alerts/story).
package story

import (
	"math/bits"
)

// Fingerprint is the SimHash of an article's title and summary. It is stable: the same text
// gives the same fingerprint in every process and release, so fingerprints can be stored.
type Fingerprint uint64

// Threshold is the largest Hamming distance between the fingerprints of two copies of the
// same story. It sits in the middle of the gap measured on the labelled pairs in
// testdata/pairs.json: copies of one story differ in at most 10 bits there, different
// stories in at least 17.
const Threshold = 13

// MinTokens is the fewest tokens (title and summary together) for which a fingerprint is a
// SimHash. Shorter texts share too few shingles for a distance to mean anything ("North
// Korea fires ballistic missile" and "North Korea fires cruise missiles" share half of
// theirs), so their fingerprint is a plain hash of the folded tokens: only texts equal after
// folding (case, diacritics, punctuation) get equal fingerprints, and against any other
// fingerprint they are no closer than chance.
const MinTokens = 16

// Feature weights. The title is what copies keep verbatim and what tells one event from
// another on the same subject, so its shingles weigh more than the summary's.
const (
	titleWeight   = 3
	summaryWeight = 1
	// maxTokens bounds the work on very long summaries; copies are already told apart
	// within the first sentences.
	maxTokens = 256
)

// params are the tunables of the fingerprint; TestPairs also measures alternatives.
type params struct {
	titleWeight, summaryWeight int32
	unigrams, bigrams          bool
	minTokens                  int
	// seed perturbs the feature hashes, to measure how much a result owes to the particular
	// hash function rather than to the features; always 0 outside tests.
	seed uint64
}

var defaults = params{titleWeight: titleWeight, summaryWeight: summaryWeight, bigrams: true, minTokens: MinTokens}

// Of returns the fingerprint of an article's title and summary (either may be empty).
//
// The features are word 2-shingles (pairs of consecutive folded tokens, tokenized and folded
// like the query language's, PRODUCT §4) of the title and of the summary, each field on its own, title shingles
// weighted three times; each feature's 64-bit hash votes on every bit, and the fingerprint
// keeps the bits with a positive total. Pairs rather than single words keep two reports
// that share the same names ("North Korea", "Russia", "troops") apart unless they also share
// the phrasing.
func Of(title, summary string) Fingerprint { return of(title, summary, defaults) }

func of(title, summary string, p params) Fingerprint {
	var sh simhash
	n, seq := features(title, summary, p, func(key uint64, w int32) { sh.add(mix(key^p.seed), w) })
	if n < p.minTokens {
		return Fingerprint(mix(seq))
	}
	return sh.sum()
}

// features calls fn with the key and weight of every feature of the text: the 2-shingles
// of the title, then of the summary (and single tokens when p.unigrams). It returns how
// many tokens it read (at most maxTokens) and a hash of their sequence.
func features(title, summary string, p params, fn func(key uint64, w int32)) (n int, seq uint64) {
	seq = fnvOffset
	field := func(s string, w int32) {
		prev, first := uint64(0), true
		eachToken(s, func(h uint64) {
			if n >= maxTokens {
				return
			}
			n++
			seq = mix(seq ^ h)
			if p.unigrams {
				fn(h, w)
			}
			if p.bigrams && !first {
				fn(bits.RotateLeft64(prev, 29)^h^bigramSalt, w)
			}
			prev, first = h, false
		})
	}
	field(title, p.titleWeight)
	field(summary, p.summaryWeight)
	return n, seq
}

// simhash accumulates weighted 64-bit feature hashes: each feature votes its weight for
// the bits it has set and against those it has not.
type simhash struct {
	acc   [64]int32 // weight of the features with each bit set
	total int32     // weight of all features
}

func (s *simhash) add(h uint64, w int32) {
	s.total += w
	for m := h; m != 0; m &= m - 1 {
		s.acc[bits.TrailingZeros64(m)] += w
	}
}

// sum sets the bits whose features outweigh those without: acc > total - acc.
func (s *simhash) sum() Fingerprint {
	var f uint64
	for i, a := range s.acc {
		if 2*a > s.total {
			f |= 1 << i
		}
	}
	return Fingerprint(f)
}

// bigramSalt keeps a pair's hash apart from any single token's.
const bigramSalt = 0x9e3779b97f4a7c15

// mix is the SplitMix64 finalizer: FNV-1a's high bits depend little on the last bytes, and
// SimHash needs every bit of a feature hash to be an independent coin.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Distance returns the Hamming distance between two fingerprints: how many bits differ.
func (f Fingerprint) Distance(g Fingerprint) int { return bits.OnesCount64(uint64(f ^ g)) }

// Same reports whether two fingerprints are near-identical: copies of the same story.
func Same(a, b Fingerprint) bool { return a.Distance(b) <= Threshold }
