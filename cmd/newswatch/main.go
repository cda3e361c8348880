// Command newswatch is an event-sourced news-monitoring daemon: it polls feeds into NATS
// JetStream, matches articles to analysts' topics and serves read models and alerts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // CRON_TZ and time_zone work in a distroless image without zoneinfo

	"github.com/newswatch/newswatch/config"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"
)

// Exit statuses (README.md, docs/operations.md). `go run` turns any non-zero one into 1.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise it comes from the
// module's build info.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func main() {
	os.Exit(runMain(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `newswatch — event-sourced news monitoring

Usage:
  newswatch run      [--config FILE]       run the daemon (no config: built-in default)
  newswatch check    --config FILE         validate a config, its topics and their examples
  newswatch topics test [--config FILE] [--json] FILE|URL...
                                           show which topics each item matches, and why
  newswatch alerts tail [--config FILE] [--topic ID] [--since T] [--json]
                                           follow alerts as they fire
  newswatch replay   --projection NAME [--from T|SEQ] [--to T|SEQ] [--topic ID] [--dry-run] [--json]
                                           rebuild a projection, backfill matches, backtest alerts
  newswatch export   [--from T|SEQ] [--to T|SEQ] [--subject SUBJ] [--output FILE]
                                           events as NDJSON (CloudEvents), for warehouses
  newswatch feeds    list|add|set|rm|pause|resume|poll|import|export ...
                                           manage feeds at run time, through the API
  newswatch version                        print the version

--config may also come from NEWSWATCH_CONFIG. Run "newswatch COMMAND --help" for a command's flags.
`

// runMain is main without os.Exit, for tests.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "topics":
		return cmdTopics(ctx, args[1:], stdout, stderr)
	case "alerts":
		return cmdAlerts(ctx, args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(ctx, args[1:], stdout, stderr)
	case "export":
		return cmdExport(ctx, args[1:], stdout, stderr)
	case "feeds":
		return cmdFeeds(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "newswatch %s\n", buildVersion())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "newswatch: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// newFlags returns a flag set that prints its usage to stderr and reports errors as exit 2.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: newswatch %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

var flagHelp = flag.ErrHelp

// parseFlags parses args; it returns the exit code to use when the command should stop here.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "newswatch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, true
	}
	return 0, false
}

// loadConfig reads the config named by the flag or NEWSWATCH_CONFIG; with neither, the built-in
// default when allowed.
func loadConfig(path string, allowDefault bool) (*config.Config, error) {
	if path == "" {
		path = os.Getenv("NEWSWATCH_CONFIG")
	}
	if path == "" {
		if !allowDefault {
			return nil, errors.New("no config: pass --config FILE or set NEWSWATCH_CONFIG")
		}
		return config.Default(), nil
	}
	// Every problem at once: the topics' queries and examples are checked even when the rest
	// of the file has problems.
	cfg, err := config.LoadPartial(path)
	if cfg == nil {
		return nil, err
	}
	var errs config.Errors
	if err != nil && !errors.As(err, &errs) {
		return nil, err
	}
	if terr := checkTopics(cfg); terr != nil {
		var more config.Errors
		if !errors.As(terr, &more) {
			return nil, errors.Join(err, terr)
		}
		errs = append(errs, more...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", "check --config FILE", stderr)
	path := fs.String("config", "", "config file (default $NEWSWATCH_CONFIG)")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	cfg, err := loadConfig(*path, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: OK (%d feeds, %d topics, %d alert rules, %d receivers)\n",
		cfg.File(), len(cfg.Feeds), len(cfg.Topics), len(cfg.Alerts), len(cfg.Notify))
	return exitOK
}

func cmdRun(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := newFlags("run", "run [--config FILE]", stderr)
	path := fs.String("config", "", "config file (default $NEWSWATCH_CONFIG, else the built-in default)")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	cfg, err := loadConfig(*path, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	applyMemoryLimit(cfg, log)
	if err := startPprof(ctx, log); err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	app, err := New(ctx, cfg, Deps{Logger: log, Registry: prometheus.NewRegistry(), Version: buildVersion()})
	if err != nil {
		log.Error("cannot start", "error", err)
		return exitRuntime
	}
	defer app.Close()
	go reloadOnHangup(ctx, app, *path, log)
	if err := app.Run(ctx); err != nil {
		log.Error("stopped with error", "error", err)
		return exitRuntime
	}
	log.Info("stopped")
	return exitOK
}

// reloadOnHangup re-reads the config on SIGHUP; a config that does not load is rejected with a
// log line and the running one stays.
func reloadOnHangup(ctx context.Context, app *App, path string, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		cfg, err := loadConfig(path, true)
		if err == nil {
			err = app.Reload(cfg)
		}
		if err != nil {
			log.Error("config reload rejected; the running config stays", "component", "config", "error", err.Error())
		}
	}
}

// newLogger logs JSON when stderr is not a terminal (or format is json), text otherwise.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" || (format != "json" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
