package config

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem found in a configuration, located at a file
// position when the position is known.
type Error struct {
	// File is the configuration file name, or "" when the configuration was
	// not read from a file.
	File string
	// Line and Col are 1-based; zero means unknown.
	Line, Col int
	// Msg describes the problem, usually prefixed with the config path
	// (for example "feeds[2].url: ...").
	Msg string

	err error // underlying cause, if any, for errors.Is and errors.As
}

// Error formats the problem as "file:line:col: msg", leaving out the parts
// that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
		if e.Col > 0 {
			b.WriteString(strconv.Itoa(e.Col))
			b.WriteString(":")
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause, such as fs.ErrNotExist when the file
// could not be read.
func (e *Error) Unwrap() error { return e.err }

// Errors is every problem found in a configuration. Load, Parse and
// Validate return it sorted by position.
type Errors []*Error

// Error returns the problems one per line, sorted by line, then column,
// with problems that have no position last.
func (es Errors) Error() string {
	sorted := slices.Clone(es)
	sorted.sort()
	lines := make([]string, len(sorted))
	for i, e := range sorted {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual problems, so errors.As can find an *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sort orders problems by file, line and column. Problems without a line
// go after those with one, so a "too many problems" notice ends the list.
// The sort is stable: problems at one position keep the order they were
// found in.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(sortLine(a.Line), sortLine(b.Line)),
			cmp.Compare(a.Col, b.Col),
		)
	})
}

// sortLine places an unknown line (0) after every known one.
func sortLine(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}

// asError returns es as an error, or nil when there are no problems. It
// exists so that an empty Errors never becomes a non-nil error interface.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	es.sort()
	return es
}

// suggest returns the candidate closest to word when it is within edit
// distance 2, for "did you mean" hints. Ties go to the earlier candidate.
// A word no longer than the distance is not worth a hint ("u" is one edit
// from any one-letter id).
func suggest(word string, candidates []string) (string, bool) {
	best, bestDist := "", min(3, len(word))
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// editDistance is the Levenshtein distance between a and b, counted in
// bytes; config keys are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quote renders a user-supplied value for an error message, shortened so a
// pasted document does not flood the terminal.
func quote(s string) string {
	const limit = 60
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

// errorf builds an Error without a cause.
func errorf(file string, line, col int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}
