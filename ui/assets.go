package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
)

//go:embed assets
var assetsFS embed.FS

var embedded, _ = fs.Sub(assetsFS, "assets")

func osDir(dir string) fs.FS { return os.DirFS(dir) }

// asset is one file, kept plain and gzip-compressed.
type asset struct {
	body, gz []byte
	ctype    string
}

// assets are the page files. index.html names the others under /static/{version}/
// where the version is a digest of every file, so the others are cached for a
// year and index.html not at all; in development mode files are read from disk
// on every request and nothing is cached.
type assets struct {
	fsys    fs.FS
	dev     bool
	version string

	mu    sync.Mutex
	files map[string]*asset
}

func loadAssets(fsys fs.FS, dev bool) (*assets, error) {
	a := &assets{fsys: fsys, dev: dev, files: make(map[string]*asset)}
	if dev {
		a.version = "dev"
		return a, nil
	}
	sum := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", p, len(b))
		sum.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load page assets: %w", err)
	}
	a.version = hex.EncodeToString(sum.Sum(nil))[:12]
	for _, name := range []string{"index.html", "app.js", "app.css"} {
		if _, err := a.get(name); err != nil {
			return nil, fmt.Errorf("load page assets: %w", err)
		}
	}
	return a, nil
}

func (a *assets) get(name string) (*asset, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f, ok := a.files[name]; ok && !a.dev {
		return f, nil
	}
	b, err := fs.ReadFile(a.fsys, name)
	if err != nil {
		return nil, err
	}
	if name == "index.html" {
		b = bytes.ReplaceAll(b, []byte("{{V}}"), []byte(a.version))
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	f := &asset{body: b, gz: gz.Bytes(), ctype: ct}
	a.files[name] = f
	return f, nil
}

// FirstLoadGzipBytes is how many bytes a page's first load transfers with gzip:
// index.html and every asset it names.
func (s *Server) FirstLoadGzipBytes() (int, error) {
	n := 0
	for _, name := range []string{"index.html", "app.js", "app.css"} {
		f, err := s.assets.get(name)
		if err != nil {
			return 0, err
		}
		n += len(f.gz)
	}
	return n, nil
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request, name string, immutable bool) {
	f, err := a.get(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Add("Vary", "Accept-Encoding")
	switch {
	case a.dev || !immutable:
		h.Set("Cache-Control", "no-cache")
	default:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// pageRoutes serves index.html for every page path and the versioned assets.
func (s *Server) pageRoutes() {
	index := func(w http.ResponseWriter, r *http.Request) { s.assets.serve(w, r, "index.html", false) }
	for _, p := range []string{"GET /{$}", "GET /pda", "GET /station", "GET /manager", "GET /signin"} {
		s.mux.HandleFunc(p, index)
	}
	s.mux.HandleFunc("GET /static/{v}/{file}", func(w http.ResponseWriter, r *http.Request) {
		v, file := r.PathValue("v"), r.PathValue("file")
		if v != s.assets.version && !s.assets.dev {
			// An old page asking for an old version: serve the current file uncached.
			s.assets.serve(w, r, file, false)
			return
		}
		s.assets.serve(w, r, file, true)
	})
}
