package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cronHint is the advice appended to every invalid cron spec message.
const cronHint = ` (use a spec such as "*/10 * * * *" or "@every 5m")`

func TestValidateGlobal(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"empty data_dir", "data_dir: ''\n", []string{"t.yaml:1:11: data_dir: must not be empty"}},
		{"nats url list", "nats:\n  url: nats://a:4222, http://b:80,c\n", []string{
			`t.yaml:2:8: nats.url: "http://b:80" is not a NATS server address: use nats://, tls://, ws:// or wss:// URLs, or host:port, separated by commas`,
			`t.yaml:2:8: nats.url: "c" is not a NATS server address: use nats://, tls://, ws:// or wss:// URLs, or host:port, separated by commas`,
		}},
		{"nats url hides password", "nats:\n  url: http://u:pw@b:80\n", []string{
			`t.yaml:2:8: nats.url: "http://<redacted>@b:80" is not a NATS server address: use nats://, tls://, ws:// or wss:// URLs, or host:port, separated by commas`,
		}},
		{"nats listen", "nats:\n  listen: localhost\n", []string{
			`t.yaml:2:11: nats.listen: "localhost" is not a host:port address such as 127.0.0.1:4222`,
		}},
		{"replicas zero", "nats:\n  replicas: 0\n", []string{"t.yaml:2:13: nats.replicas: must be between 1 and 5, got 0"}},
		{"replicas six", "nats:\n  url: nats://a:4222\n  replicas: 6\n", []string{"t.yaml:3:13: nats.replicas: must be between 1 and 5, got 6"}},
		{"replicas embedded", "nats:\n  replicas: 3\n", []string{
			"t.yaml:2:13: nats.replicas: 3 replicas need a NATS cluster: set nats.url, or use 1 with the embedded server",
		}},
		{"two auth methods", "nats:\n  creds: a.creds\n  token: s3cret\n", []string{
			"t.yaml:2:3: nats: use only one of creds, token and user/password",
		}},
		{"tls cert without key", "nats:\n  tls:\n    cert: c.pem\n", []string{"t.yaml:3:5: nats.tls: cert and key must be given together"}},
		{"http listen", "http:\n  listen: ':http'\n", []string{
			`t.yaml:2:11: http.listen: ":http" is not a host:port address such as 127.0.0.1:8080`,
		}},
		{"http allowed_hosts", "http:\n  allowed_hosts: [newswatch, 'https://news.example/', '']\n", []string{
			`t.yaml:2:30: http.allowed_hosts[1]: "https://news.example/" is not a host name: write it as in a Host header, e.g. newswatch or news.example.org:8443`,
			`t.yaml:2:55: http.allowed_hosts[2]: "" is not a host name: write it as in a Host header, e.g. newswatch or news.example.org:8443`,
		}},
		{"fetch", "fetch:\n  timeout: 0s\n  max_body_bytes: 0\n  per_host_concurrency: -1\n  user_agent: \"bot\\r\\nX-Evil: 1\"\n  allow_networks: [10.0.0.0/8, 10.0.0.1, \"fd00::/8\"]\n", []string{
			"t.yaml:2:12: fetch.timeout: must be positive, got 0s",
			"t.yaml:3:19: fetch.max_body_bytes: must be positive, got 0",
			"t.yaml:4:25: fetch.per_host_concurrency: must be positive, got -1",
			"t.yaml:5:15: fetch.user_agent: must not contain control characters",
			`t.yaml:6:32: fetch.allow_networks[1]: "10.0.0.1" is not a CIDR prefix such as 10.0.0.0/8 or fd00::/8`,
		}},
		{"ingest", "ingest:\n  workers: -1\n  max_bytes_in_flight: 1000\n", []string{
			"t.yaml:2:12: ingest.workers: must not be negative (0 means the default), got -1",
			"t.yaml:3:24: ingest.max_bytes_in_flight: must be at least 1048576 (1 MiB), got 1000",
		}},
		{"ingest commit_linger too long", "ingest:\n  commit_linger: 6s\n", []string{
			"t.yaml:2:18: ingest.commit_linger: must be at most 5s, got 6s",
		}},
		{"ingest commit_linger negative", "ingest:\n  commit_linger: -1s\n", []string{
			"t.yaml:2:18: ingest.commit_linger: must not be negative, got -1s",
		}},
		{"memory_limit negative", "memory_limit: -1\n", []string{
			"t.yaml:1:15: memory_limit: must not be negative (0 derives it from the pipeline's ceiling), got -1",
		}},
		{"memory_limit too small", "memory_limit: 1000000\n", []string{
			"t.yaml:1:15: memory_limit: must be at least 67108864 (64 MiB), got 1000000",
		}},
		{"log", "log:\n  level: verbose\n  format: xml\n", []string{
			`t.yaml:2:10: log.level: unknown level "verbose" (use debug, info, warn or error)`,
			`t.yaml:3:11: log.format: unknown format "xml" (use auto, json or text)`,
		}},
	})
}

func TestValidateFeeds(t *testing.T) {
	long := strings.Repeat("a", 65)
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"ids", "feeds:\n  - url: https://a.example/rss\n  - id: \"\"\n    url: https://a.example/rss\n  - id: BBC World\n    url: https://a.example/rss\n  - id: " + long + "\n    url: https://a.example/rss\n", []string{
			"t.yaml:2:5: feeds[0]: id is required",
			"t.yaml:3:9: feeds[1].id: must not be empty",
			`t.yaml:5:9: feeds[2].id: invalid feed id "BBC World": use 1 to 64 characters from a-z, 0-9 and -`,
			`t.yaml:7:9: feeds[3].id: invalid feed id "` + long[:60] + `…": use 1 to 64 characters from a-z, 0-9 and -`,
		}},
		{"duplicate id", "feeds:\n  - id: a\n    url: https://a.example/rss\n  - id: b\n    url: https://b.example/rss\n  - id: a\n    url: https://c.example/rss\n", []string{
			`t.yaml:6:9: feeds[2].id: duplicate feed id "a" (first defined at line 2)`,
		}},
		{"urls", `feeds:
  - id: a
  - id: b
    url: ftp://b.example/rss
  - id: c
    url: https://
  - id: d
    url: file://
  - id: e
    url: file://host/x.xml
  - id: f
    url: file:///var/feeds/f.xml
  - id: g
    url: HTTPS://G.EXAMPLE/rss
  - id: h
    url: file://localhost/var/feeds/h.xml
`, []string{
			"t.yaml:2:5: feeds[0]: url is required",
			`t.yaml:4:10: feeds[1].url: "ftp://b.example/rss" is not a feed URL: use http:// or https:// with a host, or file:// with a path`,
			`t.yaml:6:10: feeds[2].url: "https://" is not a feed URL: use http:// or https:// with a host, or file:// with a path`,
			`t.yaml:8:10: feeds[3].url: "file://" is not a feed URL: use http:// or https:// with a host, or file:// with a path`,
			`t.yaml:10:10: feeds[4].url: "file://host/x.xml" is not a feed URL: use http:// or https:// with a host, or file:// with a path`,
		}},
	})
}

func TestValidateFeedSchedules(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"schedules", `feeds:
  - id: a
    url: https://a.example/
    schedule: every 5 minutes
  - id: b
    url: https://a.example/
    schedule: "@every 500ms"
  - id: c
    url: https://a.example/
    schedule: ""
  - id: d
    url: https://a.example/
    schedule: TZ=UTC
  - id: e
    url: https://a.example/
    schedule: "@every 1s"
  - id: f
    url: https://a.example/
    schedule: "*/10 * * * *"
  - id: g
    url: https://a.example/
    schedule: "@hourly"
  - id: h
    url: https://a.example/
    schedule: "CRON_TZ=UTC 0 9 * * *"
  - id: i
    url: https://a.example/
    schedule: "TZ=UTC @every 10ms"
`, []string{
			`t.yaml:4:15: feeds[0].schedule: invalid cron spec "every 5 minutes": expected exactly 5 fields, found 3: [every 5 minutes]` + cronHint,
			`t.yaml:7:15: feeds[1].schedule: "@every 500ms" is too frequent; the minimum is @every 1s`,
			"t.yaml:10:15: feeds[2].schedule: must not be empty",
			`t.yaml:13:15: feeds[3].schedule: invalid cron spec "TZ=UTC": a time zone must be followed by a schedule`,
			`t.yaml:28:15: feeds[8].schedule: "TZ=UTC @every 10ms" is too frequent; the minimum is @every 1s`,
		}},
	})
}

func TestValidateTopics(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"ids, query and examples", `topics:
  - name: no id
    query: x
  - id: t
  - id: t
    query: y
  - id: u
    query: z
    examples:
      match:
        - text: a
          file: a.txt
        - title: only a title
        - file: a.txt
          title: T
      no_match:
        - file: missing.txt
`, []string{
			"t.yaml:2:5: topics[0]: id is required",
			"t.yaml:4:5: topics[1]: query is required",
			`t.yaml:5:9: topics[2].id: duplicate topic id "t" (first defined at line 4)`,
			"t.yaml:11:11: topics[3].examples.match[0]: give either file or text, not both",
			"t.yaml:13:11: topics[3].examples.match[1]: give either file or text",
			"t.yaml:15:18: topics[3].examples.match[2].title: title goes with text; a file carries its own title",
			`t.yaml:17:17: topics[3].examples.no_match[0].file: cannot read example "missing.txt": no such file or directory`,
		}},
	})
}

func TestValidateExampleFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "examples", "a.html"), []byte("<p>hi</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "newswatch.yaml")
	src := "topics:\n  - id: t\n    query: q\n    examples:\n      match:\n        - file: examples/a.html\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "examples", "a.html")
	if got := c.Resolve(c.Topics[0].Examples.Match[0].File); got != want {
		t.Errorf("Resolve = %q, want %q", got, want)
	}
}

func TestValidateAlerts(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"alerts", `topics:
  - id: dprk-russia
    query: x
alerts:
  - kind: match
  - topic: dprk-rusia
  - topic: dprk-russia
    kind: spik
  - topic: dprk-russia
    kind: spike
    window: -1h
    threshold: -2
    min_sources: -1
    cooldown: -5m
    time_zone: Europe/Berlinn
  - topic: dprk-russia
    kind: digest
    schedule: "@daily at 9"
    top: -1
  - topic: dprk-russia
    group_wait: -1s
    min_interval: -1s
    schedule: "@daily"
  - topic: dprk-russia
    kind: digest
  - topic: dprk-russia
    kind: spike
  - topic: dprk-russia
    kind: digest
    schedule: "0 8 * * *"
  - topic: dprk-russia
    kind: digest
    schedule: "0 8 * * *"
`, []string{
			"t.yaml:5:5: alerts[0]: topic is required",
			`t.yaml:6:12: alerts[1].topic: unknown topic "dprk-rusia" (did you mean "dprk-russia"?)`,
			`t.yaml:8:11: alerts[2].kind: unknown kind "spik" (use match, spike or digest)`,
			"t.yaml:11:13: alerts[3].window: must be between 0 and 168h, got -1h0m0s",
			"t.yaml:12:16: alerts[3].threshold: must be a finite number ≥ 0, got -2",
			"t.yaml:13:18: alerts[3].min_sources: must not be negative, got -1",
			"t.yaml:14:15: alerts[3].cooldown: must not be negative, got -5m0s",
			`t.yaml:15:16: alerts[3].time_zone: unknown time zone "Europe/Berlinn": use an IANA name such as Europe/Berlin or Asia/Seoul`,
			`t.yaml:18:15: alerts[4].schedule: invalid cron spec "@daily at 9": unrecognized descriptor: @daily at 9` + cronHint,
			"t.yaml:19:10: alerts[4].top: must not be negative, got -1",
			"t.yaml:21:17: alerts[5].group_wait: must not be negative, got -1s",
			"t.yaml:22:19: alerts[5].min_interval: must not be negative, got -1s",
			"t.yaml:23:15: alerts[5].schedule: schedule applies to digest rules only, and this rule is kind match",
			"t.yaml:24:5: alerts[6]: schedule is required",
			"t.yaml:26:12: alerts[7].topic: topic dprk-russia already has a spike rule (alerts[3])",
			"t.yaml:33:15: alerts[9].schedule: topic dprk-russia already has a digest with this schedule at line 28",
		}},
	})
}

func TestValidateNotify(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"notify", `topics:
  - id: t
    query: x
notify:
  - url: https://hooks.example/a
  - type: pager
    url: https://hooks.example/b
  - type: webhook
  - type: webhook
    url: ftp://hooks.example/c
  - type: slack
    url: https://hooks.slack.com/services/x
    topics: [t, u]
  - name: Ops Team
    type: webhook
    url: https://hooks.example/d
  - name: webhook-7
    type: webhook
    url: https://hooks.example/e
  - type: webhook
    url: https://hooks.example/f
  - type: slack
    url: https://hooks.slack.com/services/y
    kinds: [digest, digets]
`, []string{
			"t.yaml:5:5: notify[0]: type is required",
			`t.yaml:6:11: notify[1].type: unknown type "pager" (use webhook, slack or email)`,
			"t.yaml:8:5: notify[2]: url is required",
			`t.yaml:10:10: notify[3].url: "ftp://hooks.example/c" is not an http:// or https:// URL with a host`,
			`t.yaml:13:17: notify[4].topics[1]: unknown topic "u"`,
			`t.yaml:14:11: notify[5].name: invalid notify name "Ops Team": use 1 to 64 characters from a-z, 0-9 and -`,
			`t.yaml:20:5: notify[7].name: duplicate notify name "webhook-7" (first defined at line 17)`,
			`t.yaml:24:21: notify[8].kinds[1]: unknown kind "digets" (use match, spike or digest)`,
		}},
	})
}

// TestValidateAllAtOnce checks that decoding and validation problems from
// all over a file come back together, sorted by line and column.
func TestValidateAllAtOnce(t *testing.T) {
	src := `notify:
  - type: slack
    url: https://hooks.slack.com/x
    topics: [nope]
feeds:
  - id: a
    url: https://a.example/
    schedule: '@every 5m'
    bogus: 1
data_dir: ''
nats:
  replicas: x
`
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"mixed", src, []string{
			`t.yaml:4:14: notify[0].topics[0]: unknown topic "nope"`,
			`t.yaml:9:5: unknown key "bogus" in feeds[0] (valid keys: id, name, url, schedule, tags, full_text)`,
			"t.yaml:10:11: data_dir: must not be empty",
			`t.yaml:12:13: nats.replicas: expected an integer, found "x"`,
		}},
	})
}

// TestValidateBuiltInCode checks Validate on a config built in code, which
// has no file and no positions.
func TestValidateBuiltInCode(t *testing.T) {
	c := &Config{
		DataDir: "d",
		NATS:    NATS{Replicas: 1},
		Fetch:   Fetch{Timeout: time.Second, MaxBodyBytes: 1, PerHostConcurrency: 1},
		Log:     Log{Level: "info", Format: "auto"},
		Feeds: []Feed{
			{ID: "a", URL: "https://a.example/", Schedule: "@every 5m"},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	c.Feeds = append(c.Feeds, Feed{ID: "a", URL: "https://b.example/", Schedule: "@every 5m"}, Feed{URL: "https://c.example/"})
	want := `feeds[1].id: duplicate feed id "a" (first defined at feeds[0].id)` + "\n" +
		"feeds[2]: id is required\n" +
		"feeds[2]: schedule is required"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

func TestValidateEmailReceiver(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{{
		name: "email",
		src: `data_dir: /tmp/x
topics:
  - id: t
    query: x
notify:
  - type: email
    smtp: mail.example
    from: "not an address"
    to: ["desk@example.org", "nope"]
    username: u
  - type: email
    smtp: mail.example:587
    from: alerts@example.org
    to: [desk@example.org]
    url: https://x.example/
  - {type: email, smtp: "mail.example:25", from: a@example.org, to: [b@example.org], username: u, password: p, starttls: true}
`,
		want: []string{
			`t.yaml:6:5: notify[0].password: give both username and password, or neither`,
			`t.yaml:7:11: notify[0].smtp: "mail.example" is not host:port, e.g. smtp.example.org:587`,
			`t.yaml:8:11: notify[0].from: "not an address" is not an e-mail address: mail: no angle-addr`,
			`t.yaml:9:30: notify[0].to[1]: "nope" is not an e-mail address: mail: missing '@' or angle-addr`,
			`t.yaml:15:10: notify[1].url: an e-mail receiver has no url: give smtp, from and to`,
		},
	}})
}
