package stories

import "slices"

// Signature is the story model's sketch of one text, for telling copies apart where no
// topic's state is at hand (the spike detector counts stories per hour over four weeks, longer
// than stories are kept): the signatureSize smallest keys of the text's story terms (see
// terms.go). Term keys are hashes, so the smallest keys are a uniform sample of the terms (a
// bottom-k MinHash sketch), and two sketches estimate the Jaccard similarity of the two
// texts' terms.
type Signature []uint64

const (
	signatureSize = 32
	// copyJaccard is the least estimated Jaccard similarity of two copies: the Jaccard
	// similarity of two equal-sized term sets whose cosine is memberNovelty, the cosine at
	// which the model takes an article for a copy of a report.
	copyJaccard = memberNovelty / (2 - memberNovelty)
	// minCopyTerms: texts with fewer terms than this (headlines) are copies only when their
	// terms are the same. One word in a headline tells events apart ("sends troops", "sends
	// missiles"), and a Jaccard estimate over a handful of terms means little.
	minCopyTerms = 12
)

// SignatureOf returns the signature of a title and summary; nil without any term.
func SignatureOf(title, summary string) Signature {
	ts := termsOf(title, summary) // distinct keys, sorted
	if len(ts) == 0 {
		return nil
	}
	out := make(Signature, 0, min(len(ts), signatureSize))
	for _, t := range ts[:min(len(ts), signatureSize)] {
		out = append(out, uint64(t.key()))
	}
	slices.Sort(out)
	return out
}

// Copies reports whether two signatures are of copies of one text: the same words, or nearly
// (a syndicated copy with a dateline or another last sentence), as the story model sees them.
func (s Signature) Copies(o Signature) bool {
	if len(s) == 0 || len(o) == 0 {
		return false
	}
	k := min(signatureSize, max(len(s), len(o)))
	both, seen := 0, 0
	i, j := 0, 0
	for seen < k && (i < len(s) || j < len(o)) {
		switch {
		case j == len(o) || (i < len(s) && s[i] < o[j]):
			i++
		case i == len(s) || o[j] < s[i]:
			j++
		default:
			both++
			i++
			j++
		}
		seen++
	}
	if seen < minCopyTerms {
		return both == seen
	}
	return float64(both) >= copyJaccard*float64(seen)
}
