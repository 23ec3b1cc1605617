package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

var update = flag.Bool("update", false, "rewrite the screenshots in docs/screenshots")

const screenshotDir = "../docs/screenshots"

// chromium finds the browser; the browser tests fail (not skip) without it, so
// a CI machine that lost it is noticed.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("DOCKHAND_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("headless Chromium is needed for the browser tests: install it (Debian: apt-get install chromium) or set DOCKHAND_CHROMIUM to its path")
	return ""
}

// browser starts one headless Chromium for a test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// tab opens a page in its own browser context (own cookies) at a screen size.
func tab(t *testing.T, b context.Context, w, h int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// waitJS waits until a JavaScript expression is truthy.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(30*time.Millisecond))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		errs, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.__dhErrors)`))
		t.Fatalf("waiting for %s (%s): %v\npage errors: %s\npage: %.600s", what, expr, err, errs, body)
	}
}

func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// noPageErrors fails on script errors and content-security-policy violations.
func noPageErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	if errs := js[string](t, ctx, `JSON.stringify(window.__dhErrors || [])`); errs != "[]" {
		t.Fatalf("page errors: %s", errs)
	}
}

func textOf(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%q)||{textContent:''}).textContent`, sel)
}

// shot takes a screenshot, checks it, and with -update writes it to docs/screenshots.
func shot(t *testing.T, ctx context.Context, name string, w, h int) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("screenshot %s: %v %v, want %dx%d", name, err, img.Bounds(), w, h)
	}
	if *update {
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wedge types a code into the focused scan box the way a PDA's built-in
// scanner does: fast keystrokes ending in Enter.
func wedge(t *testing.T, ctx context.Context, code string) {
	t.Helper()
	do(t, ctx, chromedp.SendKeys("#scan", code+"\r"))
}

func signInPage(t *testing.T, ctx context.Context, base, code, pin, station string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible("#pinform"))
	do(t, ctx, chromedp.SendKeys("#code", code), chromedp.SendKeys("#pin", pin), chromedp.SendKeys("#station", station), chromedp.Click("#signin"))
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests need Chromium; not in -short")
	}
	e := newRealEnv(t, true)
	e.loadOrders()
	b := browser(t)
	base := e.http.URL

	t.Run("sign in and temp buttons", func(t *testing.T) {
		ctx := tab(t, b, 360, 640)
		do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible("#pinform"))
		shot(t, ctx, "signin-360x640", 360, 640)
		do(t, ctx, chromedp.SendKeys("#code", "K1"), chromedp.SendKeys("#pin", "0000"), chromedp.Click("#signin"))
		waitJS(t, ctx, "wrong PIN message", textOf("#err")+`.includes('还可尝试 2 次')`)
		// A temp signs in with the badge scanned into the page and sees two buttons.
		do(t, ctx, chromedp.SendKeys("#badge", "BADGE-T1\r"))
		waitJS(t, ctx, "temp home", `!!document.querySelector('#go-handover') && !!document.querySelector('#go-exception')`)
		if n := js[int](t, ctx, `document.querySelectorAll('#app button').length`); n != 2 {
			t.Fatalf("a temp must see exactly two buttons, saw %d", n)
		}
		shot(t, ctx, "pda-temp-360x640", 360, 640)
		// 异常上报: a category from the contract and a few words.
		do(t, ctx, chromedp.Click("#go-exception"), chromedp.WaitVisible("#category"))
		do(t, ctx, chromedp.SetValue("#category", "damaged_packaging"), chromedp.SendKeys("#text", "外箱压坏"), chromedp.Click("#submit"))
		waitJS(t, ctx, "reported", textOf("#result")+`.includes('已上报')`)
		if countType(events(t, e.st), wire.EventExceptionReported) != 1 {
			t.Fatal("exception.reported missing")
		}
		noPageErrors(t, ctx)
	})

	t.Run("pack flow by keyboard wedge", func(t *testing.T) {
		ctx := tab(t, b, 360, 640)
		signInPage(t, ctx, base, "K1", "1111", "PACK-02")
		waitJS(t, ctx, "packer home", `!!document.querySelector('#go-pack')`)
		shot(t, ctx, "pda-home-360x640", 360, 640)
		do(t, ctx, chromedp.Click("#go-pack"), chromedp.WaitVisible("#scan"))
		waitJS(t, ctx, "scan box focused", `document.activeElement && document.activeElement.id === 'scan'`)
		wedge(t, ctx, "ZT1000000001")
		waitJS(t, ctx, "order open", textOf("#linetable")+`.includes('有机米糊礼盒')`)
		waitJS(t, ctx, "tags shown", textOf("#tags")+`.includes('重点复核') && `+textOf("#tags")+`.includes('易碎')`)
		// A wrong item: red, the reason in words, the error sound and a vibration.
		wedge(t, ctx, "6970000000019")
		waitJS(t, ctx, "red verdict", `document.querySelector('#verdict').classList.contains('bad') && !document.querySelector('#flash').hidden`)
		if !strings.Contains(js[string](t, ctx, textOf("#vmsg")), "应扫") {
			t.Fatalf("wrong item must say what to scan: %q", js[string](t, ctx, textOf("#vmsg")))
		}
		shot(t, ctx, "pda-pack-wrong-item-360x640", 360, 640)
		waitJS(t, ctx, "error sound", `window.__dhSounds.includes('bad')`)
		for _, code := range []string{"6971234567888", "6971234567888", "6971234567895"} {
			n := js[int](t, ctx, `window.__dhSounds.length`)
			wedge(t, ctx, code)
			waitJS(t, ctx, "verdict for "+code, fmt.Sprintf(`window.__dhSounds.length > %d`, n))
		}
		waitJS(t, ctx, "gift highlighted and counted", `(() => { const r = document.querySelector('tr.gift'); return r && r.textContent.includes('赠品') && r.textContent.includes('1 / 1'); })()`)
		waitJS(t, ctx, "asks for the waybill again", textOf("#next")+`.includes('再扫一次面单')`)
		shot(t, ctx, "pda-pack-gift-360x640", 360, 640)
		wedge(t, ctx, "ZT1000000001")
		waitJS(t, ctx, "verified", `document.querySelector('#verdict').classList.contains('done') && window.__dhSounds.includes('done')`)
		if n := countType(events(t, e.st), wire.EventPackVerified); n != 1 {
			t.Fatalf("pack.verified ×%d", n)
		}
		// Wi-Fi drops after the server applied a scan but before the answer
		// arrived: the page queues it, retries with the same scan id, and the
		// server answers from its record instead of applying it twice.
		e.gate.Store(gateLoseAnswer)
		wedge(t, ctx, "ZT1000000004")
		waitJS(t, ctx, "replayed answer after the retry", textOf("#verdict")+`.includes('重复提交')`)
		if q := js[string](t, ctx, `localStorage.getItem('dh.queue')`); q != "[]" {
			t.Fatalf("queue after retry: %s", q)
		}
		if n := auditedScans(t, e, "ZT1000000004"); n != 1 {
			t.Fatalf("scan applied %d times", n)
		}
		// Fully offline: the scan waits in the queue (shown), then goes through.
		e.gate.Store(gateDown)
		wedge(t, ctx, "6971234567888")
		waitJS(t, ctx, "offline banner with the queued scan", textOf("#offline")+`.includes('排队 1')`)
		e.gate.Store(0)
		waitJS(t, ctx, "queued scan applied", textOf("#next")+`.includes('再扫一次面单')`)
		waitJS(t, ctx, "feedback gone", `!document.querySelector('#flash') || document.querySelector('#flash').hidden`)
		do(t, ctx, chromedp.Click("#langbtn"))
		waitJS(t, ctx, "English", textOf("#bar")+`.includes('Sign out')`)
		do(t, ctx, chromedp.Click("#langbtn"))
		noPageErrors(t, ctx)
	})

	t.Run("temp scans parcels out into a cage", func(t *testing.T) {
		ctx := tab(t, b, 360, 640)
		do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible("#badge"), chromedp.SendKeys("#badge", "BADGE-T1\r"))
		waitJS(t, ctx, "temp home", `!!document.querySelector('#go-handover')`)
		do(t, ctx, chromedp.Click("#go-handover"), chromedp.WaitVisible("#cage"))
		if js[bool](t, ctx, `!!document.querySelector('#closecage')`) {
			t.Fatal("a temp must not see the close-cage button")
		}
		do(t, ctx, chromedp.SendKeys("#cage", "CAGE-ZTO-1"), chromedp.Click("#opencage"))
		waitJS(t, ctx, "cage open", textOf("#verdict")+`.includes('CAGE-ZTO-1')`)
		do(t, ctx, chromedp.Focus("#scan"))
		wedge(t, ctx, "ZT1000000001")
		waitJS(t, ctx, "counted", textOf("#count")+`.includes('件数 1')`)
		waitJS(t, ctx, "feedback gone", `!document.querySelector('#flash') || document.querySelector('#flash').hidden`)
		shot(t, ctx, "pda-handover-360x640", 360, 640)
		noPageErrors(t, ctx)
	})

	t.Run("picker walks the pick list", func(t *testing.T) {
		ctx := tab(t, b, 360, 640)
		signInPage(t, ctx, base, "P1", "2222", "")
		waitJS(t, ctx, "picker home", `!!document.querySelector('#go-pick')`)
		do(t, ctx, chromedp.Click("#go-pick"))
		waitJS(t, ctx, "pick list, urgent first", `(() => { const c = document.querySelector('#picklist .card'); return c && c.textContent.includes('O-2') && c.textContent.includes('加急'); })()`)
		do(t, ctx, chromedp.Click("#picklist .card button"))
		waitJS(t, ctx, "go to the bin", textOf("#next")+`.includes('C-01-1-01')`)
		shot(t, ctx, "pda-pick-360x640", 360, 640)
		do(t, ctx, chromedp.Focus("#scan"))
		wedge(t, ctx, "C-01-1-01")
		waitJS(t, ctx, "at the bin", textOf("#next")+`.includes('商品')`)
		wedge(t, ctx, "6970000000019")
		waitJS(t, ctx, "picked", `document.querySelector('#verdict').classList.contains('done')`)
		if countType(events(t, e.st), wire.EventPickCompleted) != 1 {
			t.Fatal("pick.completed missing")
		}
		noPageErrors(t, ctx)
	})

	t.Run("manager acknowledges an urgent popup", func(t *testing.T) {
		ctx := tab(t, b, 1366, 768)
		signInPage(t, ctx, base, "M1", "9000", "")
		waitJS(t, ctx, "console", `!!document.querySelector('#n-open')`)
		waitJS(t, ctx, "live connected", `window.__dhLive && window.__dhLive.hello`)
		e.feed(wire.FeedMessage{Kind: wire.KindNotice, Notice: &wire.Notice{NoticeID: "N-9", Level: "urgent",
			Roles: []string{"manager", "picker"}, Text: "18:00 前顺丰最后一班揽收,请优先处理顺丰单"}})
		waitJS(t, ctx, "popup pushed", `!!document.querySelector('.popup[data-id="notice:N-9"]')`)
		waitJS(t, ctx, "popup sound", `window.__dhSounds.includes('urgent')`)
		shot(t, ctx, "manager-urgent-1366x768", 1366, 768)
		e.clk.Add(90 * time.Second)
		do(t, ctx, chromedp.Click(`.popup[data-id="notice:N-9"] button`))
		waitJS(t, ctx, "popup closed", `!document.querySelector('.popup[data-id="notice:N-9"]')`)
		var d wire.UrgentAckData
		for _, ev := range events(t, e.st) {
			if ev.Type == wire.EventUrgentAcknowledged {
				json.Unmarshal(ev.Data, &d)
			}
		}
		if d.NoticeID != "N-9" || d.LatencyMS < 90000 || d.Role != "manager" {
			t.Fatalf("urgent.acknowledged: %+v", d)
		}
		// The urgent order O-2 popped up too; a popup stays until acknowledged.
		for js[bool](t, ctx, `!!document.querySelector('.popup button')`) {
			do(t, ctx, chromedp.Click(`.popup button`))
			time.Sleep(100 * time.Millisecond)
		}
		do(t, ctx, chromedp.Click("#tab-heat"))
		waitJS(t, ctx, "heat map", `!!document.querySelector('#spread') && document.querySelectorAll('.heat table').length === 2`)
		shot(t, ctx, "manager-heat-1366x768", 1366, 768)
		do(t, ctx, chromedp.Click("#tab-people"))
		waitJS(t, ctx, "operators", `!!document.querySelector('tr[data-op="K1"]')`)
		do(t, ctx, chromedp.Click("#tab-overview"))
		waitJS(t, ctx, "overview", `!!document.querySelector('#n-open')`)
		noPageErrors(t, ctx)
	})

	t.Run("station screen follows the bench, reprint needs a manager", func(t *testing.T) {
		ctx := tab(t, b, 1366, 768)
		signInPage(t, ctx, base, "K1", "1111", "PACK-01")
		waitJS(t, ctx, "home", `!!document.querySelector('#go-pack')`)
		do(t, ctx, chromedp.Navigate(base+"/station?station=PACK-01"))
		waitJS(t, ctx, "printer state", textOf("#printer")+`.includes('ready')`)
		waitJS(t, ctx, "live connected", `window.__dhLive && window.__dhLive.hello`)
		// The bench's scanner (here: another session at PACK-01) scans; the screen follows.
		bench := e.client().signIn("M2", "9001", "PACK-01")
		bench.scan("pack", "ZT1000000003")
		waitJS(t, ctx, "verdict pushed", textOf("#linetable")+`.includes('猫粮')`)
		waitJS(t, ctx, "waybill preview", `(() => { const i = document.querySelector('#preview'); return i && i.complete && i.naturalWidth > 0; })()`)
		shot(t, ctx, "station-1366x768", 1366, 768)
		// The websocket drops; scans go on; the page resumes with ?since= and
		// receives each missed verdict exactly once.
		before := js[int](t, ctx, `window.__dhLiveCount || 0`)
		do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__dhDropLive()`))
		bench.scan("pack", "6970000000026")
		bench.scan("pack", "NOT-A-CODE")
		waitJS(t, ctx, "resumed", fmt.Sprintf(`(window.__dhLiveCount || 0) >= %d`, before+2))
		time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
		if got := js[int](t, ctx, `window.__dhLiveCount`); got != before+2 {
			t.Fatalf("after resume the page got %d messages, want exactly %d", got-before, 2)
		}
		// Reprint: a wrong manager PIN is refused, the right one prints.
		waitJS(t, ctx, "feedback gone", `!document.querySelector('#flash') || document.querySelector('#flash').hidden`)
		do(t, ctx, chromedp.Click("#reprint"), chromedp.WaitVisible("#rp-modal"))
		do(t, ctx, chromedp.SendKeys("#rp-reason", "面单卡纸"), chromedp.SendKeys("#rp-code", "M1"), chromedp.SendKeys("#rp-pin", "1234"), chromedp.Click("#rp-ok"))
		waitJS(t, ctx, "wrong PIN", textOf("#rp-err")+`.includes('还可尝试')`)
		do(t, ctx, chromedp.SendKeys("#rp-pin", "9000"), chromedp.Click("#rp-ok"))
		waitJS(t, ctx, "reprinted", textOf("#rp-err")+`.includes('已补打')`)
		if countType(events(t, e.st), wire.EventWaybillReprinted) != 1 {
			t.Fatal("waybill.reprinted missing")
		}
		noPageErrors(t, ctx)
	})
}

// auditedScans counts the engine's audit records of scans of code.
func auditedScans(t *testing.T, e *env, code string) int {
	t.Helper()
	recs, err := e.st.Audit(store.AuditQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Code == code && r.Action == "scan" {
			n++
		}
	}
	return n
}
