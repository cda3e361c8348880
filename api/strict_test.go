package api

import (
	"strings"
	"testing"
)

// A silence body means one thing or is refused: encoding/json alone would take the last of two
// keys, replace invalid UTF-8, ignore what follows the object and let "until" and "duration"
// disagree silently.
func TestSilenceInputIsStrict(t *testing.T) {
	srv := newServer(t, nil)
	for _, c := range []struct{ name, body, want string }{
		{"duplicate key", `{"topic":"zz","topic":"k","duration":"1h"}`, `key \"topic\" appears twice`},
		{"duplicate duration", `{"topic":"k","duration":"1h","duration":"9000h"}`, `key \"duration\" appears twice`},
		{"trailing garbage", `{"topic":"k","duration":"1h"} {"topic":"k"}`, "unexpected data after the JSON object"},
		{"trailing word", `{"topic":"k","duration":"1h"}xyz`, "after the JSON object"},
		{"invalid UTF-8", "{\"topic\":\"k\",\"duration\":\"1h\",\"comment\":\"\xff\xfe\"}", "not valid UTF-8"},
		{"until and duration", `{"topic":"k","duration":"1h","until":"2030-01-01T00:00:00Z"}`, `give \"until\" or \"duration\", not both`},
		{"not an object", `["k"]`, "bad silence"},
		{"empty", ``, "bad silence"},
	} {
		status, body := do(t, "POST", srv.URL+"/api/v1/silences", c.body)
		if status != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want 400 containing %q", c.name, status, body, c.want)
		}
	}
	if _, body := do(t, "GET", srv.URL+"/api/v1/silences", ""); strings.TrimSpace(body) != "[]" {
		t.Errorf("a refused body created a silence: %s", body)
	}
	// Nested values and whitespace after the object are fine.
	if status, body := do(t, "POST", srv.URL+"/api/v1/silences", "{\"topic\":\"k\",\"duration\":\"1h\",\"comment\":\"ok \u00e9\"}\n\t "); status != 201 {
		t.Errorf("valid body = %d %s", status, body)
	}
}

func TestDuplicateKeyAtAnyDepth(t *testing.T) {
	for body, dup := range map[string]bool{
		`{"a":1,"b":{"a":2}}`:             false,
		`{"a":[{"x":1},{"x":2}]}`:         false,
		`{"a":{"x":1,"x":2}}`:             true,
		`{"a":[{"x":1,"y":[1,2],"x":2}]}`: true,
		`{"a":"b","c":"a"}`:               false,
	} {
		if got := duplicateKey([]byte(body)) != nil; got != dup {
			t.Errorf("duplicateKey(%s) = %v, want %v", body, got, dup)
		}
	}
}
