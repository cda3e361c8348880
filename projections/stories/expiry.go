package stories

// expiry finds what to prune without looking at what stays: a min-heap of story keys by a
// time (unix seconds) no later than the story's last article. A story is in it once. Pruning
// pops the keys whose time is before the cutoff and pushes back, with its real time, each one
// that has had a newer article since; so a prune costs what it removes (and the stories that
// moved on since they were last looked at), not the number of stories kept.
type expiry []expiring

type expiring struct {
	at  int64
	key uint64
}

func (h *expiry) push(at int64, key uint64) {
	*h = append(*h, expiring{at, key})
	s := *h
	for i := len(s) - 1; i > 0; {
		up := (i - 1) / 2
		if !s[i].before(s[up]) {
			break
		}
		s[i], s[up] = s[up], s[i]
		i = up
	}
}

// due pops and returns the key with the earliest time when that time is before cutoff.
func (h *expiry) due(cutoff int64) (uint64, bool) {
	s := *h
	if len(s) == 0 || s[0].at >= cutoff {
		return 0, false
	}
	key := s[0].key
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && s[l].before(s[least]) {
			least = l
		}
		if r < n && s[r].before(s[least]) {
			least = r
		}
		if least == i {
			break
		}
		s[i], s[least] = s[least], s[i]
		i = least
	}
	*h = s
	return key, true
}

func (e expiring) before(o expiring) bool { return e.at < o.at || e.at == o.at && e.key < o.key }
