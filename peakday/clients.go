package peakday

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"time"
)

// Verdict is what a scan or action answered, read from either the scan
// socket (the floor engine's verdict) or the HTTP API (the UI's verdict).
type Verdict struct {
	OK        bool   `json:"ok"`
	Reason    string `json:"reason"`
	Next      string `json:"next"`
	OrderID   string `json:"order_id"`
	WaybillNo string `json:"waybill_no"`
	Print     bool   `json:"print"`
	Done      bool   `json:"done"`
	Pull      bool   `json:"pull"`
	Replayed  bool   `json:"replayed"`
	Code      string `json:"code"`
	Station   string `json:"station"`
	Lines     []struct {
		LineID  string `json:"line_id"`
		Qty     int    `json:"qty"`
		Scanned int    `json:"scanned"`
		Done    bool   `json:"done"`
	} `json:"lines"`
	Error string `json:"error"`
	// ErrCode is the HTTP API's error code (e.g. "unavailable") when the
	// request was refused as a whole.
	ErrCode string `json:"-"`
}

// ErrNoAnswer means a scan got no verdict: the connection broke or the wait
// timed out. Whether it was applied is unknown; the station looks at its screen.
var ErrNoAnswer = errors.New("no verdict")

// refusedErr is an answer that refused the request as a whole (the disk is
// full, the store is unavailable): nothing was recorded.
type refusedErr struct{ msg string }

func (e *refusedErr) Error() string { return "refused: " + e.msg }

// SocketClient talks to the agent's test scan socket: one JSON scan per line,
// answered after the durable commit.
type SocketClient struct {
	Path string

	mu   sync.Mutex
	conn net.Conn
	rd   *bufio.Reader
}

type socketScan struct {
	Station  string `json:"station"`
	Operator string `json:"operator"`
	Code     string `json:"code"`
}

// Scan sends one scan and waits for its verdict.
func (c *SocketClient) Scan(ctx context.Context, station, operator, code string) (Verdict, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "unix", c.Path)
		if err != nil {
			return Verdict{}, fmt.Errorf("%w: dial scan socket: %v", ErrNoAnswer, err)
		}
		c.conn, c.rd = conn, bufio.NewReader(conn)
	}
	b, _ := json.Marshal(socketScan{Station: station, Operator: operator, Code: code})
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		c.reset()
		return Verdict{}, fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	line, err := c.rd.ReadBytes('\n')
	if err != nil {
		c.reset()
		return Verdict{}, fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	var v Verdict
	if err := json.Unmarshal(line, &v); err != nil {
		return Verdict{}, fmt.Errorf("scan socket answer %q: %w", line, err)
	}
	if v.Error != "" {
		return v, &refusedErr{v.Error}
	}
	return v, nil
}

func (c *SocketClient) reset() {
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn, c.rd = nil, nil
}

// Close closes the connection.
func (c *SocketClient) Close() {
	c.mu.Lock()
	c.reset()
	c.mu.Unlock()
}

// API is one signed-in client of the agent's HTTP API (a PDA or a station
// screen): a cookie jar, the session's CSRF token and the page's Origin.
type API struct {
	Base     string // http://127.0.0.1:port
	Operator string
	Station  string
	Role     string
	CSRF     string
	hc       *http.Client
}

// NewAPI makes a client of base with its own cookies.
func NewAPI(base string) *API {
	jar, _ := cookiejar.New(nil)
	return &API{Base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// APIError is an HTTP API refusal.
type APIError struct {
	Status int
	Code   string `json:"error"`
	MsgEN  string `json:"msg_en"`
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.MsgEN) }

// Do sends a JSON request with the page's Origin and CSRF token and decodes
// the answer into out (when not nil).
func (a *API) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, body)
	if err != nil {
		return fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", a.Base)
	if a.CSRF != "" {
		req.Header.Set("X-Dockhand-CSRF", a.CSRF)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrNoAnswer, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%w: read %s: %v", ErrNoAnswer, path, err)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(b, e)
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode %s answer: %w", path, err)
		}
	}
	return nil
}

// SignIn signs in with an operator code and PIN at station.
func (a *API) SignIn(ctx context.Context, code, pin, station string) error {
	var me struct {
		Operator string `json:"operator"`
		Role     string `json:"role"`
		Station  string `json:"station"`
		CSRF     string `json:"csrf"`
	}
	if err := a.Do(ctx, http.MethodPost, "/api/signin", map[string]string{"code": code, "pin": pin, "station": station}, &me); err != nil {
		return fmt.Errorf("sign in %s: %w", code, err)
	}
	a.Operator, a.Role, a.Station, a.CSRF = me.Operator, me.Role, me.Station, me.CSRF
	return nil
}

// NewScanID makes a page-style scan id.
func NewScanID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "s" + hex.EncodeToString(b[:])
}

// ScanID sends a scan with a given scan id (a retried request reuses it).
func (a *API) ScanID(ctx context.Context, id, mode, code, handoverID string) (Verdict, error) {
	var v Verdict
	err := a.Do(ctx, http.MethodPost, "/api/scan", map[string]string{"scan_id": id, "code": code, "mode": mode,
		"handover_id": handoverID}, &v)
	return v, apiRefusal(err)
}

// Action sends an explicit step (confirm_line, cancel, handover_open, pulled…).
func (a *API) Action(ctx context.Context, kind string, fields map[string]string) (Verdict, error) {
	in := map[string]string{"scan_id": NewScanID(), "kind": kind}
	for k, v := range fields {
		in[k] = v
	}
	var v Verdict
	err := a.Do(ctx, http.MethodPost, "/api/action", in, &v)
	return v, apiRefusal(err)
}

// apiRefusal turns a server-side failure into a refusal (nothing recorded) or
// keeps ErrNoAnswer.
func apiRefusal(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status >= 500 {
		return &refusedErr{ae.Error()}
	}
	return err
}

// StationView is what a station's screen shows now.
func (a *API) StationView(ctx context.Context, station string) (Verdict, error) {
	var v Verdict
	err := a.Do(ctx, http.MethodGet, "/api/stations/"+station, nil, &v)
	return v, err
}

// Health is the agent's /healthz answer.
type Health struct {
	OK            bool   `json:"ok"`
	Orders        int    `json:"orders"`
	FeedSeq       uint64 `json:"feed_seq"`
	OutboxPending int    `json:"outbox_pending"`
	Error         string `json:"error"`
}

// GetHealth reads /healthz.
func GetHealth(ctx context.Context, hc *http.Client, base string) (Health, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return Health{}, err
	}
	defer resp.Body.Close()
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return Health{}, fmt.Errorf("healthz: %w", err)
	}
	if !h.OK && h.Error == "" {
		h.Error = resp.Status
	}
	return h, nil
}
