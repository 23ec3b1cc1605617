// Package printapi is the agent's local print API: a page or a program on the
// packing PC (the seller's ERP) sends a raw job (TSPL or ESC/POS bytes) or a
// waybill document to a named printer, and follows the job's outcome over a
// websocket — what warehouses use QZ Tray or the platforms' print components
// for today, with the print-once queue (agent/printing), its printer status
// checks and its physical-print confirmation behind it.
//
// Every request is authenticated: a signed-in page's session (the cookie of
// agent/people, with the page's CSRF token on state-changing requests) or an
// API key for programs (keys are created by managers and kept only as SHA-256
// hashes). A browser request is accepted only from the agent's own origin or
// from http.allowed_origins, and CORS preflights are answered only for those.
// A client key makes a retried request return the first job instead of
// printing twice. Refusals come in Chinese and English.
package printapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/ui/live"
)

// Queue is the print-once queue as the API uses it (*printing.Queue).
type Queue interface {
	Printers() []printing.PrinterState
	Profile(id string) (printing.Profile, bool)
	Submit(ctx context.Context, s printing.Submission) (printing.Job, bool, error)
	Job(id string) (printing.Job, error)
	Wait(ctx context.Context, id string) (printing.Job, error)
	Resolve(ctx context.Context, id, decision, by string) (printing.Job, error)
}

// Options build an API. Queue, Store and People are required.
type Options struct {
	Queue  Queue
	Store  *store.Store
	People *people.Directory
	// AllowedOrigins are the origins (scheme://host:port) of other pages that
	// may call the API from a browser, e.g. the ERP's web page.
	AllowedOrigins []string
	// KeyFile names a file of initial API keys, one "name key" per line
	// (lines starting with # are comments); they are stored hashed at start.
	KeyFile string
	// Fonts draw text the printers' built-in fonts cannot (nil: loaded when needed).
	Fonts *label.Fonts
	// MaxWait caps ?wait= on submissions (default 30 s).
	MaxWait time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

// API is the local print API's http.Handler, mounted under /api/print/.
type API struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	hub  *live.Hub

	mu      sync.Mutex
	tickets map[string]ticket
}

// New returns the API. It panics on missing required options (a programming
// error in the composition root) and fails when the key file cannot be read.
func New(opts Options) (*API, error) {
	if opts.Queue == nil || opts.Store == nil || opts.People == nil {
		panic("printapi.New: Queue, Store and People are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Second
	}
	a := &API{opts: opts, log: opts.Log, mux: http.NewServeMux(), tickets: map[string]ticket{}}
	a.hub = live.New(live.Options{CheckOrigin: a.originOK, Log: opts.Log, Now: opts.Now})
	if opts.KeyFile != "" {
		if err := a.loadKeyFile(opts.KeyFile); err != nil {
			return nil, err
		}
	}
	a.routes()
	return a, nil
}

func (a *API) routes() {
	m := a.mux
	m.HandleFunc("GET /api/print/printers", a.authed(printers, a.printers))
	m.HandleFunc("POST /api/print/jobs/raw", a.authed(printers, a.submitRaw))
	m.HandleFunc("POST /api/print/jobs/layout", a.authed(printers, a.submitLayout))
	m.HandleFunc("GET /api/print/jobs/{id}", a.authed(printers, a.job))
	m.HandleFunc("POST /api/print/jobs/{id}/resolve", a.authed(managers, a.resolve))
	m.HandleFunc("GET /api/print/ws", a.authed(printers, a.ws))
	m.HandleFunc("POST /api/print/ws/ticket", a.authed(printers, a.wsTicket))
	m.HandleFunc("GET /api/print/keys", a.authed(sessionManagers, a.listKeys))
	m.HandleFunc("POST /api/print/keys", a.authed(sessionManagers, a.addKey))
	m.HandleFunc("POST /api/print/keys/{name}/revoke", a.authed(sessionManagers, a.revokeKey))
	m.HandleFunc("/api/print/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "没有这个打印接口", "no such print API endpoint")
	})
}

// JobChanged pushes a job's new state to its submitter's websocket (wire it to
// the queue's OnJob).
func (a *API) JobChanged(j printing.Job) {
	if j.Operator == "" || (j.Kind != printing.KindRaw && j.Kind != printing.KindLayout) {
		return
	}
	if _, err := a.hub.Publish(TypeJob, live.Audience{Operator: j.Operator}, viewOf(j)); err != nil {
		a.log.Debug("publish print job", "err", err)
	}
}

// Close disconnects every websocket.
func (a *API) Close() { a.hub.Close() }

// ServeHTTP serves the API: CORS preflights for allowed origins, then the
// endpoints.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if o := r.Header.Get("Origin"); o != "" {
		h.Add("Vary", "Origin")
		if !a.originOK(r) {
			writeErr(w, http.StatusForbidden, "bad_origin", "请求来源不被允许", "request origin not allowed: add it to http.allowed_origins")
			return
		}
		if !sameOrigin(r, o) {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, "+keyHeader+", "+csrfHeader)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	} else if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// originOK accepts a request without Origin (a program, not a browser) and a
// browser's Origin that is the agent's own or one of AllowedOrigins.
func (a *API) originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	for _, al := range a.opts.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(al, "/"), o) {
			return true
		}
	}
	return sameOrigin(r, o)
}

func sameOrigin(r *http.Request, o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// ---- authentication ----

const (
	cookieName = "dockhand_session"
	csrfHeader = "X-Dockhand-CSRF"
	keyHeader  = "X-Dockhand-Key"
)

// caller is who makes a request: a signed-in operator or an API key.
type caller struct {
	ID       string // the job owner: an operator code, or "key:" + the key's name
	Role     people.Role
	Operator string // the operator's code, for a session
	Key      string // the key's name, for a key
}

func (c caller) session() bool { return c.Key == "" }

type access int

const (
	printers        access = iota // sessions of pickers, packers and managers; any key
	managers                      // manager sessions only
	sessionManagers               // manager sessions only (key management)
)

type ctxKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(ctxKey{}).(caller)
	return c
}

// authed wraps h: an API key or a live session allowed to do what h does, and
// for a session's state-changing request its CSRF token.
func (a *API) authed(need access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.authenticate(w, r)
		if !ok {
			return
		}
		switch {
		case c.Role == people.RoleTemp:
			writeErr(w, http.StatusForbidden, "forbidden", "临时工不能使用打印接口", "temporary staff may not use the print API")
			return
		case need != printers && (!c.session() || c.Role != people.RoleManager):
			writeErr(w, http.StatusForbidden, "forbidden", "只有主管可以这样做", "only a manager may do this")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	}
}

func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (caller, bool) {
	key := r.Header.Get(keyHeader)
	if key == "" {
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			key = strings.TrimSpace(v)
		}
	}
	if key == "" && r.URL.Path == "/api/print/ws" {
		if t := r.URL.Query().Get("ticket"); t != "" {
			c, ok := a.useTicket(t)
			if !ok {
				writeErr(w, http.StatusUnauthorized, "bad_ticket", "连接凭证无效或已过期", "websocket ticket unknown or expired: ask for a new one")
				return caller{}, false
			}
			return c, true
		}
	}
	if key != "" {
		k, err := a.verifyKey(key)
		if err != nil {
			a.fail(w, err)
			return caller{}, false
		}
		return caller{ID: "key:" + k.Name, Role: people.RolePacker, Key: k.Name}, true
	}
	var token string
	if ck, err := r.Cookie(cookieName); err == nil {
		token = ck.Value
	}
	if token == "" {
		writeErr(w, http.StatusUnauthorized, "unauthenticated", "请先登录,或在请求头 X-Dockhand-Key 中提供 API 密钥",
			"sign in, or send an API key in the X-Dockhand-Key header")
		return caller{}, false
	}
	ss, err := a.opts.People.Verify(token)
	if err != nil {
		a.fail(w, err)
		return caller{}, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(csrfHeader) != ss.CSRF {
		writeErr(w, http.StatusForbidden, "bad_csrf", "页面已过期,请刷新", "page expired (CSRF token); reload it")
		return caller{}, false
	}
	return caller{ID: ss.Operator, Role: ss.Role, Operator: ss.Operator}, true
}

// ---- JSON and errors ----

type apiError struct {
	Error string `json:"error"`
	MsgZH string `json:"msg_zh"`
	MsgEN string `json:"msg_en"`
	Job   *View  `json:"job,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, zh, en string) {
	writeJSON(w, status, apiError{Error: code, MsgZH: zh, MsgEN: en})
}

// zhEN splits a sentinel worded "中文 (English)".
func zhEN(err error) (string, string) {
	s := err.Error()
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		return s[:i], s[i+2 : len(s)-1]
	}
	return s, s
}

// refusals maps the queue's sentinels onto statuses and codes.
var refusals = []struct {
	err    error
	status int
	code   string
}{
	{printing.ErrUnknownPrinter, http.StatusNotFound, "unknown_printer"},
	{printing.ErrAlreadyPrinted, http.StatusConflict, "already_printed"},
	{printing.ErrWrongLanguage, http.StatusBadRequest, "wrong_language"},
	{printing.ErrEmptyJob, http.StatusBadRequest, "empty_job"},
	{printing.ErrNoWaybill, http.StatusBadRequest, "no_waybill"},
	{printing.ErrNotUncertain, http.StatusConflict, "not_uncertain"},
	{errBadDecision, http.StatusBadRequest, "bad_decision"},
	{errNoKey, http.StatusUnauthorized, "bad_key"},
	{errKeyExists, http.StatusConflict, "key_exists"},
	{errKeyName, http.StatusBadRequest, "bad_key_name"},
	{errNoSuchKey, http.StatusNotFound, "not_found"},
}

// fail answers err in words for people; anything unexpected is a 500 with a
// plain message, the detail goes to the log.
func (a *API) fail(w http.ResponseWriter, err error) {
	if e, ok := people.IsPeopleError(err); ok {
		status := map[string]int{"signed_out": 401, "disabled": 403, "forbidden": 403, "not_found": 404}[e.Code]
		if status == 0 {
			status = 400
		}
		writeJSON(w, status, apiError{Error: e.Code, MsgZH: e.ZH, MsgEN: e.EN})
		return
	}
	for _, rf := range refusals {
		if errors.Is(err, rf.err) {
			zh, en := zhEN(rf.err)
			if detail := strings.TrimPrefix(err.Error(), rf.err.Error()); detail != err.Error() && detail != "" {
				en += detail
			} else if !strings.HasPrefix(err.Error(), rf.err.Error()) {
				en += " — " + err.Error()
			}
			writeErr(w, rf.status, rf.code, zh, en)
			return
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeErr(w, http.StatusNotFound, "not_found", "没有这个打印任务", "no such print job")
	case store.IsDiskFull(err):
		writeErr(w, http.StatusInsufficientStorage, "disk_full", "磁盘已满,任务未记录,请联系主管", "disk full: the job was not recorded; call a manager")
	default:
		a.log.Error("print API request failed", "err", err)
		writeErr(w, http.StatusInternalServerError, "internal", "系统出错,请重试或联系主管", "something went wrong; retry or call a manager")
	}
}

// maxBody caps request bodies: a raw label with bitmaps is well below it.
const maxBody = 4 << 20

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErr(w, http.StatusRequestEntityTooLarge, "too_large", "打印任务太大", fmt.Sprintf("the request is larger than %d bytes", maxBody))
			return false
		}
		writeErr(w, http.StatusBadRequest, "bad_request", "请求格式错误", "bad request: "+err.Error())
		return false
	}
	return true
}
