package ui_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/ui"
)

func get(t *testing.T, h http.Handler, path string, gz bool) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestAssetCaching(t *testing.T) {
	e := newEnv(t, false)
	resp := get(t, e.srv, "/", false)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("index: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	m := regexp.MustCompile(`/static/([0-9a-f]{12})/app\.js`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("index does not name a versioned app.js: %s", body)
	}
	for _, p := range []string{"/pda", "/manager", "/station", "/signin"} {
		if r := get(t, e.srv, p, false); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: %d", p, r.StatusCode)
		}
	}
	resp = get(t, e.srv, m[0], true)
	if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("Content-Encoding") != "gzip" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("versioned asset headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(zr)
	if !strings.Contains(string(js), "X-Dockhand-CSRF") {
		t.Fatal("gzip body is not app.js")
	}
	// An old version is served uncached (a page open across an upgrade).
	if r := get(t, e.srv, "/static/000000000000/app.js", false); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("old version: %d %v", r.StatusCode, r.Header)
	}
	if r := get(t, e.srv, "/static/"+m[1]+"/nope.js", false); r.StatusCode != 404 {
		t.Fatalf("missing asset: %d", r.StatusCode)
	}
	n, err := e.srv.FirstLoadGzipBytes()
	if err != nil || n > 200<<10 {
		t.Fatalf("first load %d bytes gzip (limit 200 KB): %v", n, err)
	}
	t.Logf("PDA first load: %d bytes gzip", n)
}

func TestDevDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"index.html", "app.js", "app.css"} {
		b, err := os.ReadFile(filepath.Join("assets", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	e := newEnv(t, false)
	srv := ui.New(ui.Options{Store: e.st, People: e.dir, Floor: e.floor, DevDir: dir})
	os.WriteFile(filepath.Join(dir, "app.css"), []byte("body{color:red}"), 0o644)
	resp := get(t, srv, "/static/dev/app.css", false)
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "body{color:red}" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("dev mode must read from disk uncached: %q %v", b, resp.Header)
	}
}
