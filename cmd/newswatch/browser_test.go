package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium driven over the DevTools protocol (chromedp), with the
// console errors of its page collected.
type browser struct {
	ctx   context.Context
	base  string // the daemon's URL
	shots string // where screenshots go
	axe   string // axe-core's source

	mu     sync.Mutex
	errors []string
}

// chromium finds the browser: $NEWSWATCH_CHROMIUM, else Debian's chromium. Without one the
// test fails under CI (CI=true), where .ci/run installs it, and is skipped loudly elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NEWSWATCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "NO BROWSER: the analyst page's browser tests need Chromium (apt-get install -y chromium, or set NEWSWATCH_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, "\n*** "+msg+" — SKIPPED ***")
	t.Skip(msg)
	return ""
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromium(t)
	axe, err := os.ReadFile("../../web/testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("NEWSWATCH_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx, base: base, shots: shots, axe: string(axe)}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	t.Logf("browser %s; screenshots in %s", exe, shots)
	return b
}

// do runs actions with a deadline.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a script expression in the page.
func eval[T any](t *testing.T, b *browser, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// waitJS waits until a script expression is true, across reloads of the page.
func (b *browser) waitJS(t *testing.T, what, expr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body.innerText"))
			t.Fatalf("%s: not within %v (last error: %v); page text:\n%s", what, within, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// open loads a page at a viewport size and waits for it to be ready.
func (b *browser) open(t *testing.T, path string, width, height int64) {
	t.Helper()
	b.do(t, "open "+path, chromedp.EmulateViewport(width, height), chromedp.Navigate(b.base+path), chromedp.WaitReady("body"))
	b.waitJS(t, "load "+path, `document.readyState === "complete"`, 15*time.Second)
}

// shoot saves a screenshot of the whole page.
func (b *browser) shoot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkA11y runs axe-core in the page and fails on serious and critical violations.
func (b *browser) checkA11y(t *testing.T, name string) {
	t.Helper()
	if !eval[bool](t, b, `typeof axe !== "undefined"`) {
		b.do(t, "inject axe-core", chromedp.Evaluate[chromedp.Void](b.axe))
	}
	found := eval[[]string](t, b, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; ")))`,
		chromedp.EvalAwaitPromise)
	for _, v := range found {
		t.Errorf("axe-core on %s: %s", name, v)
	}
}

// colorScheme sets the system colour scheme the page sees (prefers-color-scheme).
func (b *browser) colorScheme(t *testing.T, scheme string) {
	t.Helper()
	_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	if err != nil {
		t.Fatalf("emulate %s colour scheme: %v", scheme, err)
	}
}

// consoleErrors returns and forgets the console errors seen so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errors
	b.errors = nil
	return out
}

// visit loads a page on a desktop and a phone screen in the light scheme and on a desktop in
// the dark one, saves the screenshots, runs axe-core on each (colour contrast included) and
// fails on any console error.
func (b *browser) visit(t *testing.T, name, path string, ready string) {
	t.Helper()
	for _, vp := range []struct {
		suffix        string
		width, height int64
		scheme        string
	}{{"desktop", 1920, 1080, "light"}, {"phone", 375, 812, "light"}, {"dark", 1920, 1080, "dark"}} {
		b.colorScheme(t, vp.scheme)
		b.open(t, path, vp.width, vp.height)
		if ready != "" {
			b.waitJS(t, name+" ready", ready, 15*time.Second)
		}
		if vp.suffix == "phone" {
			// Nothing but the tables' own scroll boxes may be wider than the screen.
			if w := eval[int](t, b, `document.documentElement.scrollWidth`); w > int(vp.width) {
				t.Errorf("%s is %d px wide on a %d px screen", name, w, vp.width)
			}
		}
		b.shoot(t, name+"-"+vp.suffix)
		b.checkA11y(t, name+" ("+vp.suffix+")")
	}
	b.colorScheme(t, "light")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on %s:\n%s", name, strings.Join(errs, "\n"))
	}
}
