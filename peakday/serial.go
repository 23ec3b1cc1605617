package peakday

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// verdictFeed follows every station's verdicts over the UI's websocket as a
// manager console does (?all=1), reconnecting with ?since= when the agent
// restarts, and hands each station its verdicts.
type verdictFeed struct {
	api *API // a manager's session

	mu    sync.Mutex
	subs  map[string]chan Verdict
	since uint64
}

func newVerdictFeed(api *API) *verdictFeed {
	return &verdictFeed{api: api, subs: map[string]chan Verdict{}}
}

func (f *verdictFeed) sub(station string) chan Verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.subs[station]
	if ch == nil {
		ch = make(chan Verdict, 64)
		f.subs[station] = ch
	}
	return ch
}

type liveMsg struct {
	ID      uint64          `json:"id"`
	Type    string          `json:"type"`
	Station string          `json:"station"`
	Data    json.RawMessage `json:"data"`
}

// run keeps one websocket open until ctx ends.
func (f *verdictFeed) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := f.once(ctx); err != nil && ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func (f *verdictFeed) once(ctx context.Context) error {
	u, _ := url.Parse(f.api.Base)
	u.Scheme = "ws"
	u.Path = "/api/live"
	q := url.Values{"all": {"1"}}
	f.mu.Lock()
	if f.since > 0 {
		q.Set("since", strconv.FormatUint(f.since, 10))
	}
	f.mu.Unlock()
	u.RawQuery = q.Encode()
	h := http.Header{"Origin": {f.api.Base}}
	base, _ := url.Parse(f.api.Base)
	var cookies []string
	for _, c := range f.api.hc.Jar.Cookies(base) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	h.Set("Cookie", strings.Join(cookies, "; "))
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	c, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("live: %w", err)
		}
		return err
	}
	defer c.Close()
	go func() { <-ctx.Done(); c.Close() }()
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return err
		}
		var m liveMsg
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.ID > 0 {
			f.mu.Lock()
			f.since = m.ID
			f.mu.Unlock()
		}
		if m.Type != "verdict" {
			continue
		}
		var v Verdict
		if json.Unmarshal(m.Data, &v) != nil {
			continue
		}
		st := v.Station
		if st == "" {
			st = m.Station
		}
		f.mu.Lock()
		ch := f.subs[st]
		f.mu.Unlock()
		if ch != nil {
			select {
			case ch <- v:
			default:
			}
		}
	}
}

// SerialScanner is a wired serial scanner on a pseudo-terminal: a scan is the
// code and a CR written to the controller side; the verdict comes back the way
// the bench's screen gets it, over the websocket.
type SerialScanner struct {
	pty      *Pty
	verdicts chan Verdict
	wait     time.Duration
}

// Scan writes the code and waits for the station's verdict on it.
func (s *SerialScanner) Scan(ctx context.Context, _, _, code string) (Verdict, error) {
	for { // drop verdicts of earlier scans that came too late
		select {
		case <-s.verdicts:
			continue
		default:
		}
		break
	}
	if _, err := s.pty.Write([]byte(code + "\r")); err != nil {
		return Verdict{}, fmt.Errorf("%w: write to scanner pty: %v", ErrNoAnswer, err)
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return Verdict{}, ctx.Err()
		case <-t.C:
			return Verdict{}, fmt.Errorf("%w: no verdict for %q within %s", ErrNoAnswer, code, s.wait)
		case v := <-s.verdicts:
			// Verdicts of the bench screen's actions (confirm, cancel) carry no
			// code and may arrive late: only this code's verdict answers the scan.
			if v.Code != code {
				continue
			}
			if v.Error != "" {
				return v, &refusedErr{v.Error}
			}
			return v, nil
		}
	}
}
