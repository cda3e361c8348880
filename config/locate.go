package config

import (
	"bytes"
	"regexp"
	"unicode/utf8"
)

// The YAML library reports a few problems without a position. These find it in the input.

// unknownAnchor matches the library's message for an alias to an undefined anchor.
var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locate returns the 1-based line and column of the problem msg describes, or 0, 0.
func locate(data []byte, msg string) (line, col int) {
	switch {
	case msg == "control characters are not allowed":
		return offsetPosition(data, firstControl(data))
	case unknownAnchor.MatchString(msg):
		name := unknownAnchor.FindStringSubmatch(msg)[1]
		return offsetPosition(data, aliasOffset(data, name))
	}
	return 0, 0
}

// firstControl returns the byte offset of the first character YAML does not allow in a
// document (C0 and C1 controls other than tab, line feed, carriage return and NEL, and DEL),
// or -1.
func firstControl(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return i
		}
		i += n
	}
	return -1
}

// aliasOffset returns the offset of the first alias *name (not followed by more of a name), or -1.
func aliasOffset(data []byte, name string) int {
	pat := []byte("*" + name)
	for from := 0; ; {
		i := bytes.Index(data[from:], pat)
		if i < 0 {
			return -1
		}
		end := from + i + len(pat)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}"), data[end]) >= 0 {
			return from + i
		}
		from = end
	}
}

// offsetPosition turns a byte offset into a 1-based line and a column counted in characters.
func offsetPosition(data []byte, off int) (line, col int) {
	if off < 0 || off > len(data) {
		return 0, 0
	}
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return bytes.Count(data[:off], []byte("\n")) + 1, utf8.RuneCount(data[start:off]) + 1
}
