package printapi

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/dockhand/dockhand/ui/live"
)

// A browser cannot set headers on a websocket, so a page that holds an API key
// first asks for a ticket (with the key in a header) and opens the websocket
// with ?ticket=: one use, valid for ticketTTL.
type ticket struct {
	c       caller
	expires time.Time
}

const ticketTTL = 30 * time.Second

func (a *API) wsTicket(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		a.fail(w, err)
		return
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	now := a.opts.Now()
	a.mu.Lock()
	for k, v := range a.tickets {
		if now.After(v.expires) {
			delete(a.tickets, k)
		}
	}
	a.tickets[t] = ticket{c: callerOf(r), expires: now.Add(ticketTTL)}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ticket": t, "expires_in_s": int(ticketTTL / time.Second)})
}

func (a *API) useTicket(t string) (caller, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tk, ok := a.tickets[t]
	delete(a.tickets, t)
	if !ok || a.opts.Now().After(tk.expires) {
		return caller{}, false
	}
	return tk.c, true
}

// ws streams the state changes of the caller's jobs: messages {"id", "type":
// "job", "data": View} with ids that only grow; reconnect with ?since=<id> to
// get the ones missed.
func (a *API) ws(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	a.hub.ServeWS(w, r, live.Viewer{Operator: c.ID, Role: string(c.Role)})
}
