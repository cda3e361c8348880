package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// yamlKeys lists the yaml keys of a struct type and of the structs it holds, as dotted paths.
func yamlKeys(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, prefix+name)
		out = append(out, yamlKeys(f.Type, prefix+name+".")...)
	}
	return out
}

// Every config key is documented in docs/config.md, in the section of its top-level key.
func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	parts := regexp.MustCompile(`(?m)^### `).Split(string(doc), -1)
	for _, p := range parts[1:] {
		title, body, _ := strings.Cut(p, "\n")
		sections[strings.Trim(strings.TrimSpace(title), "`")] = body
	}
	for _, key := range yamlKeys(reflect.TypeFor[Config](), "") {
		top, rest, nested := strings.Cut(key, ".")
		if !nested {
			if !strings.Contains(sections["Top level"], "| `"+top+"` |") {
				t.Errorf("docs/config.md: top-level key %q is not in the Top level table", top)
			}
			continue
		}
		body, ok := sections[top]
		if !ok {
			t.Errorf("docs/config.md has no section ### %s", top)
			continue
		}
		last := rest[strings.LastIndex(rest, ".")+1:]
		// A mapping (nats.tls) is documented through its keys (`tls.ca`).
		if !strings.Contains(body, "`"+rest+"`") && !strings.Contains(body, "`"+last+"`") && !strings.Contains(body, "`"+rest+".") {
			t.Errorf("docs/config.md: key %s is not documented in its section", key)
		}
	}
}

// The built-in default's description names its feeds and alert kinds.
func TestBuiltinDefaultIsDescribed(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## Built-in default")
	c := Default()
	var ids []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|").FindAllStringSubmatch(section, -1) {
		ids = append(ids, m[1])
	}
	var want []string
	for _, f := range c.Feeds {
		want = append(want, f.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("docs/config.md lists the default feeds %v, the default has %v", ids, want)
	}
	for _, a := range c.Alerts {
		if !strings.Contains(section, "`"+a.Kind+"`") {
			t.Errorf("docs/config.md does not mention the default's %s alert", a.Kind)
		}
	}
	for _, tp := range c.Topics {
		if !strings.Contains(section, "`"+tp.ID+"`") {
			t.Errorf("docs/config.md does not mention the default's topic %s", tp.ID)
		}
	}
}
