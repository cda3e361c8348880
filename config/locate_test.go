package config

import "testing"

// YAML problems that the library reports without a position still carry file:line:column.
func TestYAMLErrorsCarryPositions(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"control character in a plain scalar", "feeds:\n  - id: a\n    url: https://x.org/\x01rss\n",
			"t.yaml:3:24: invalid YAML: control characters are not allowed"},
		{"control character in a quoted scalar after UTF-8", "topics:\n  - id: t\n    query: \"Россия\x07\"\n",
			"t.yaml:3:19: invalid YAML: control characters are not allowed"},
		{"form feed at a line start", "feeds:\n\x0c  - id: a\n", "t.yaml:2:1: invalid YAML: control characters are not allowed"},
		{"unknown anchor", "feeds:\n  - &ab {id: a, url: 'https://x.org/'}\n  - *ab\n  - *a\n",
			"t.yaml:4:5: invalid YAML: unknown anchor 'a' referenced"},
	} {
		_, err := Parse([]byte(c.src), "t.yaml")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}
