package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// toolBuild is a binary from deploy/tools (its own module, pinned versions) that some tests
// run. A cold build of promtool or of the Kubernetes API types takes minutes on a small machine,
// so TestMain starts every build the selected tests need at once, in the background, and the
// tests wait only for what is still missing when they get there: the builds overlap with the
// tests that spend their time waiting on polls and timers.
type toolBuild struct {
	name string   // binary name
	pkg  string   // package to build, relative to deploy/tools
	tags []string // build tags
	test string   // top-level test that needs it

	once sync.Once
	done chan struct{}
	path string
	err  error
}

var toolBuilds = map[string]*toolBuild{
	// remove_all_sd leaves out service discovery, which rule tests do not use.
	"promtool": {name: "promtool", pkg: "github.com/prometheus/prometheus/cmd/promtool", tags: []string{"remove_all_sd"}, test: "TestRulesPromtool"},
	"k8scheck": {name: "k8scheck", pkg: "./k8scheck", test: "TestOpsKubernetes"},
}

// toolBuildDir holds the built tools; TestMain removes it.
var toolBuildDir string

// startToolBuilds starts, in the background, the build of each tool whose test the -run flag
// selects (-short skips those tests). It returns a function that waits for the builds and
// removes their directory.
func startToolBuilds() (cleanup func()) {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return func() {}
	}
	dir, err := os.MkdirTemp("", "newswatch-tools-")
	if err != nil {
		return func() {}
	}
	toolBuildDir = dir
	ctx, cancel := context.WithCancel(context.Background())
	run := flag.Lookup("test.run").Value.String()
	for _, b := range toolBuilds {
		if selected(run, b.test) {
			b.start(ctx)
		}
	}
	return func() {
		cancel()
		for _, b := range toolBuilds {
			if b.done != nil {
				<-b.done
			}
		}
		_ = os.RemoveAll(dir)
	}
}

// selected reports whether the -run pattern selects the top-level test name.
func selected(pattern, name string) bool {
	if pattern == "" {
		return true
	}
	top, _, _ := strings.Cut(pattern, "/")
	re, err := regexp.Compile(top)
	return err != nil || re.MatchString(name)
}

func (b *toolBuild) start(ctx context.Context) {
	b.once.Do(func() {
		b.done = make(chan struct{})
		go func() {
			defer close(b.done)
			out := filepath.Join(toolBuildDir, b.name)
			args := []string{"build", "-o", out}
			if len(b.tags) > 0 {
				args = append(args, "-tags", strings.Join(b.tags, ","))
			}
			cmd := exec.CommandContext(ctx, "go", append(args, b.pkg)...)
			cmd.Dir = deployPath("tools")
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				b.err = fmt.Errorf("go %s in deploy/tools: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
				return
			}
			b.path = out
		}()
	})
}

// toolBinary returns the path of the built tool, waiting for its build; a test that ends
// (its deadline, -timeout) first fails saying so rather than blaming the build.
func toolBinary(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: building %s from deploy/tools takes minutes on a cold build cache", name)
	}
	b := toolBuilds[name]
	if toolBuildDir == "" {
		t.Fatal("TestMain did not prepare the tool builds")
	}
	b.start(context.Background()) // when -run did not select its test up front
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
		defer cancel()
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		t.Fatalf("building %s from deploy/tools had not finished when the test's deadline came close: "+
			"a cold build takes minutes on a small, busy machine; raise go test's -timeout (the README uses 45m)", name)
	}
	if b.err != nil {
		hint := "it needs the Go module proxy, or a module cache that has its modules"
		if errors.Is(b.err, context.Canceled) {
			hint = "the build was cancelled"
		}
		t.Fatalf("%v\n(%s)", b.err, hint)
	}
	return b.path
}
