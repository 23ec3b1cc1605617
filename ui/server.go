// Package ui is the floor's web UI: the pages pickers, packers, temporary staff
// and managers use (PDA, packing station, manager console), embedded in the
// binary, and the JSON API and websocket behind them.
//
// Every action is checked on the server: the session (a cookie holding a random
// token, stored hashed by agent/people), the role (a temp may only scan out and
// report a problem), the Origin of every state-changing request and of the
// websocket, and a CSRF token header. Scans carry a page-generated scan id: a
// request retried after a Wi-Fi drop returns the stored result instead of being
// applied twice.
//
// The scan-twice engine, the printers and the device/hub status come in through
// small interfaces (Floor, Printing, Status, Facts) that the composition root
// fills; the UI keeps working without a printer ("no printer").
package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/ui/live"
)

// Options build a Server. Store, People and Floor are required.
type Options struct {
	Store    *store.Store
	People   *people.Directory
	Floor    Floor
	Facts    Facts    // nil: the manager's analytics are empty
	Printing Printing // nil: pages show "no printer"
	Status   Status   // nil: devices and hub link show "unknown"
	Hub      *live.Hub
	// DevDir serves the page assets from this directory instead of the embedded
	// copy, uncached (for editing pages without rebuilding).
	DevDir string
	// AllowedOrigins are extra origins (scheme://host:port) allowed besides the
	// request's own host, e.g. when the agent sits behind a reverse proxy.
	AllowedOrigins []string
	// SecureCookie marks the session cookie Secure (behind HTTPS).
	SecureCookie bool
	// EscalateAfter re-sends an unacknowledged urgent popup, louder, to every
	// manager (default 5 min).
	EscalateAfter time.Duration
	// EscalateEvery is how often popups are checked for escalation (default
	// EscalateAfter/4, at most 30 s).
	EscalateEvery time.Duration
	// Location is the warehouse's time zone for hours of day (default time.Local).
	Location *time.Location
	Now      func() time.Time
	Log      *slog.Logger
}

// Server is the UI's http.Handler; Run does its background work (live counts,
// urgent popups and their escalation).
type Server struct {
	opts   Options
	hub    *live.Hub
	mux    *http.ServeMux
	assets *assets
	log    *slog.Logger

	scans   *scanLog
	urgent  *urgentBoard
	changed chan struct{}

	mu       sync.Mutex
	pending  []store.Change
	overflow bool // more changes than kept: rescan everything
}

// New returns the UI handler. It panics on missing required options (a
// programming error in the composition root).
func New(opts Options) *Server {
	if opts.Store == nil || opts.People == nil || opts.Floor == nil {
		panic("ui.New: Store, People and Floor are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.EscalateAfter <= 0 {
		opts.EscalateAfter = 5 * time.Minute
	}
	s := &Server{opts: opts, log: opts.Log, mux: http.NewServeMux(), changed: make(chan struct{}, 1)}
	s.hub = opts.Hub
	if s.hub == nil {
		s.hub = live.New(live.Options{CheckOrigin: s.originOK, Log: opts.Log})
	}
	var fsys fs.FS = embedded
	if opts.DevDir != "" {
		fsys = osDir(opts.DevDir)
	}
	a, err := loadAssets(fsys, opts.DevDir != "")
	if err != nil {
		panic(fmt.Sprintf("ui.New: %v", err))
	}
	s.assets = a
	s.scans = &scanLog{s: opts.Store, log: s.log, inflight: make(map[string]chan struct{})}
	s.urgent = newUrgentBoard(s)
	opts.Store.OnChange(s.onChange)
	s.routes()
	return s
}

// Hub is the live fan-out the server pushes to.
func (s *Server) Hub() *live.Hub { return s.hub }

// ServeHTTP serves pages, the API and the websocket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

// PublishVerdict pushes a verdict to the pages following its station (hardware
// scanner verdicts come in here from the composition root).
func (s *Server) PublishVerdict(v Verdict) {
	if _, err := s.hub.Publish(live.TypeVerdict, live.Audience{Station: v.Station}, v); err != nil {
		s.log.Debug("publish verdict", "err", err)
	}
}

// PublishStatus pushes a change of a device or of the hub link to the managers'
// and the packing stations' pages (the composition root calls it).
func (s *Server) PublishStatus(v StatusView) {
	s.hub.Publish(live.TypeDevices, live.Audience{Roles: []string{string(people.RoleManager), string(people.RolePacker)}}, v)
}

// Run does the background work until ctx ends: it turns store changes into live
// counts and urgent popups, escalates unacknowledged popups, and forgets old scan
// ids and expired sessions.
func (s *Server) Run(ctx context.Context) error {
	every := s.opts.EscalateEvery
	if every <= 0 {
		every = min(s.opts.EscalateAfter/4, 30*time.Second)
	}
	escalate := time.NewTicker(every)
	defer escalate.Stop()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	var countsDue <-chan time.Time
	s.urgent.announceExisting(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.changed:
			s.mu.Lock()
			chs, over := s.pending, s.overflow
			s.pending, s.overflow = nil, false
			s.mu.Unlock()
			if over {
				s.urgent.rescan(ctx)
			} else {
				s.urgent.onChange(ctx, chs)
			}
			if countsDue == nil {
				// At most one count push every 10 s: each is a pass over the
				// open orders (about 0.7 s for 20,000 on a busy 2-core machine).
				countsDue = time.After(10 * time.Second)
			}
		case <-countsDue:
			countsDue = nil
			if !s.hub.Any(func(v live.Viewer) bool { return v.Role == string(people.RoleManager) }) {
				continue // no manager's page is open
			}
			if c, err := s.counts(ctx); err == nil {
				s.hub.Publish(live.TypeCounts, live.Audience{Roles: []string{string(people.RoleManager)}}, c)
			} else {
				s.log.Warn("live counts", "err", err)
			}
		case <-escalate.C:
			s.urgent.escalate(ctx)
		case <-purge.C:
			if _, err := s.opts.People.PurgeExpired(); err != nil {
				s.log.Warn("purge sessions", "err", err)
			}
			if _, err := s.scans.purge(s.opts.Now().Add(-48 * time.Hour)); err != nil {
				s.log.Warn("purge scan ids", "err", err)
			}
		}
	}
}

func (s *Server) onChange(c store.Change) {
	s.mu.Lock()
	if len(s.pending) < 1024 {
		s.pending = append(s.pending, c)
	} else {
		s.overflow = true
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// ---- origin, session, roles ----

const (
	cookieName = "dockhand_session"
	csrfHeader = "X-Dockhand-CSRF"
)

// originOK accepts an Origin whose host:port is the request's Host or one of
// AllowedOrigins. A request without Origin is accepted only if the browser says
// it is same-origin (Sec-Fetch-Site).
func (s *Server) originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	for _, a := range s.opts.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(a, "/"), o) {
			return true
		}
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

type ctxKey struct{}

func sessionOf(r *http.Request) people.Session {
	s, _ := r.Context().Value(ctxKey{}).(people.Session)
	return s
}

// stationOf is the station a session works at: the one it chose, or its own PDA.
func stationOf(ss people.Session) string {
	if ss.Station != "" {
		return ss.Station
	}
	return "PDA-" + ss.Operator
}

func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

var (
	anyone    = []people.Role{people.RolePicker, people.RolePacker, people.RoleTemp, people.RoleManager}
	managers  = []people.Role{people.RoleManager}
	packers   = []people.Role{people.RolePacker, people.RoleManager}
	floorWork = []people.Role{people.RolePicker, people.RolePacker, people.RoleManager}
)

// authed wraps h: a live session with one of roles, and for state-changing
// methods an accepted Origin and the session's CSRF token.
func (s *Server) authed(roles []people.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.originOK(r) {
			writeErr(w, http.StatusForbidden, "bad_origin", "请求来源不被允许", "request origin not allowed")
			return
		}
		var token string
		if c, err := r.Cookie(cookieName); err == nil {
			token = c.Value
		}
		ss, err := s.opts.People.Verify(token)
		if err != nil {
			s.fail(w, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(csrfHeader) != ss.CSRF {
			writeErr(w, http.StatusForbidden, "bad_csrf", "页面已过期,请刷新", "page expired (CSRF token); reload it")
			return
		}
		ok := false
		for _, role := range roles {
			ok = ok || role == ss.Role
		}
		if !ok {
			writeErr(w, http.StatusForbidden, "forbidden", "你的角色不能做这个操作", "your role may not do this")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}

// ---- JSON helpers ----

type apiError struct {
	Error string `json:"error"`
	MsgZH string `json:"msg_zh"`
	MsgEN string `json:"msg_en"`
	Left  int    `json:"left,omitempty"`
	Retry int    `json:"retry_after_s,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, zh, en string) {
	writeJSON(w, status, apiError{Error: code, MsgZH: zh, MsgEN: en})
}

// fail answers err: a people refusal or a floor refusal with its words, anything
// else as a 500 with a plain message (the detail goes to the log).
func (s *Server) fail(w http.ResponseWriter, err error) {
	if e, ok := people.IsPeopleError(err); ok {
		status := map[string]int{
			"bad_pin": 401, "unknown_operator": 401, "unknown_badge": 401, "signed_out": 401,
			"locked": 429, "disabled": 403, "forbidden": 403, "invalid": 400,
			"exists": 409, "last_manager": 409, "not_found": 404,
		}[e.Code]
		if status == 0 {
			status = 400
		}
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(e.RetryAfter/time.Second)))
		}
		writeJSON(w, status, apiError{Error: e.Code, MsgZH: e.ZH, MsgEN: e.EN, Left: e.Left, Retry: int(e.RetryAfter / time.Second)})
		return
	}
	var fe *FloorError
	if errors.As(err, &fe) {
		writeJSON(w, fe.Status, apiError{Error: fe.Code, MsgZH: fe.ZH, MsgEN: fe.EN})
		return
	}
	if store.IsDiskFull(err) {
		writeErr(w, http.StatusInsufficientStorage, "disk_full", "磁盘已满,操作未记录,请联系主管", "disk full: nothing was recorded; call a manager")
		return
	}
	if errors.Is(err, store.ErrOutboxFull) {
		writeErr(w, http.StatusServiceUnavailable, "outbox_full", "与总部长时间未同步,暂停新操作,请联系主管", "hub has not acknowledged events for too long; new work paused")
		return
	}
	s.log.Error("ui request failed", "err", err)
	writeErr(w, http.StatusInternalServerError, "internal", "系统出错,请重试或联系主管", "something went wrong; retry or call a manager")
}

// FloorError is a refusal from the floor side worded for people, with the HTTP
// status it maps to. Adapters of Floor and Printing return it for refusals that
// are not verdicts (no such order, nothing to close).
type FloorError struct {
	Status int
	Code   string
	ZH, EN string
}

func (e *FloorError) Error() string { return e.ZH + " (" + e.EN + ")" }

// maxBody caps request bodies; every API body is small.
const maxBody = 64 << 10

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", "请求格式错误", "bad request: "+err.Error())
		return false
	}
	return true
}
