package ui

import (
	"context"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// Counts are the manager console's live numbers.
type Counts struct {
	At              time.Time `json:"at"`
	Open            int       `json:"open"`
	Urgent          int       `json:"urgent"`
	Intercepted     int       `json:"intercepted"`
	ToPull          int       `json:"to_pull"` // intercepted and already picked or packed: physically on the floor
	NotPicked       int       `json:"not_picked"`
	Picked          int       `json:"picked"`
	Verified        int       `json:"verified"`
	HandedOverToday int       `json:"handed_over_today"`
	Alarms          int       `json:"alarms"`
	OutboxPending   int       `json:"outbox_pending"`
	Quarantined     int       `json:"quarantined"`
	FeedCursor      uint64    `json:"feed_cursor"`
}

func (s *Server) facts(ctx context.Context) ([]OrderFact, error) {
	if s.opts.Facts == nil {
		return nil, nil
	}
	return s.opts.Facts.OrderFacts(ctx, s.opts.Now().Add(-72*time.Hour))
}

func (s *Server) counts(ctx context.Context) (Counts, error) {
	now := s.opts.Now()
	c := Counts{At: now}
	st, err := s.opts.Store.Stats()
	if err != nil {
		return c, err
	}
	c.OutboxPending, c.Quarantined, c.FeedCursor = st.OutboxPending, st.Quarantined, st.FeedCursor
	c.Open = st.OpenOrders // the store's counter: no scan
	facts, err := s.facts(ctx)
	if err != nil {
		return c, err
	}
	if s.opts.Facts == nil {
		// Without floor facts, one pass over the open orders for urgent and intercepted.
		err = s.opts.Store.View(func(tx *store.Tx) error {
			return tx.OpenOrders(func(r *store.OrderRecord) bool {
				if r.Urgent {
					c.Urgent++
				}
				if r.Order.Status == wire.StatusIntercepted {
					c.Intercepted++
				}
				return true
			})
		})
		if err != nil {
			return c, err
		}
	}
	for i := range facts {
		if facts[i].Urgent && facts[i].Status == wire.StatusReleased {
			c.Urgent++
		}
		if facts[i].Status == wire.StatusIntercepted {
			c.Intercepted++
		}
	}
	ln := now.In(s.opts.Location)
	day := time.Date(ln.Year(), ln.Month(), ln.Day(), 0, 0, 0, 0, s.opts.Location)
	for i := range facts {
		f := &facts[i]
		if f.HandedOverAt != nil && !f.HandedOverAt.Before(day) {
			c.HandedOverToday++
		}
		if !onFloor(f) || f.HandedOverAt != nil {
			continue
		}
		switch {
		case f.VerifiedAt != nil:
			c.Verified++
		case f.PickedAt != nil:
			c.Picked++
		default:
			c.NotPicked++
		}
		if f.Status == wire.StatusIntercepted && (f.PickedAt != nil || f.VerifiedAt != nil) {
			c.ToPull++
		}
	}
	c.Alarms = len(SLAAlarms(facts, now))
	return c, nil
}

func (s *Server) countsAPI(w http.ResponseWriter, r *http.Request) {
	c, err := s.counts(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// PullItem is an intercepted parcel to take out of the flow.
type PullItem struct {
	OrderID   string     `json:"order_id"`
	Reason    string     `json:"reason"`
	Note      string     `json:"note,omitempty"`
	At        *time.Time `json:"at,omitempty"`
	Stage     string     `json:"stage"` // not_picked, picked, verified
	Location  string     `json:"location,omitempty"`
	Carrier   string     `json:"carrier,omitempty"`
	WaybillNo string     `json:"waybill_no,omitempty"`
}

// stuckAfter marks a bench stuck: an order open and no scan for this long.
const stuckAfter = 5 * time.Minute

func (s *Server) benches(w http.ResponseWriter, r *http.Request) {
	out := []Bench{}
	if bf, ok := s.opts.Floor.(Benches); ok {
		bs, err := bf.Benches(r.Context())
		if err != nil {
			s.fail(w, err)
			return
		}
		now := s.opts.Now()
		for _, b := range bs {
			b.IdleS = max(0, int64(now.Sub(b.Updated)/time.Second))
			b.Stuck = b.OrderID != "" && now.Sub(b.Updated) >= stuckAfter
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Stuck != out[j].Stuck {
			return out[i].Stuck
		}
		return out[i].Station < out[j].Station
	})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) pullList(w http.ResponseWriter, r *http.Request) {
	facts, err := s.facts(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	byID := make(map[string]*OrderFact, len(facts))
	for i := range facts {
		byID[facts[i].OrderID] = &facts[i]
	}
	out := []PullItem{}
	err = s.opts.Store.View(func(tx *store.Tx) error {
		return tx.OpenOrders(func(rec *store.OrderRecord) bool {
			o := &rec.Order
			if o.Status != wire.StatusIntercepted {
				return true
			}
			it := PullItem{OrderID: o.OrderID, Stage: "not_picked"}
			if o.Intercept != nil {
				it.Reason, it.Note = o.Intercept.Reason, o.Intercept.Note
				if o.Intercept.At != nil {
					t := o.Intercept.At.Time
					it.At = &t
				}
			}
			if len(o.Lines) > 0 {
				it.Location = o.Lines[0].Location
			}
			if o.Carrier != nil {
				it.Carrier = o.Carrier.Name
			}
			if o.Waybill != nil {
				it.WaybillNo = o.Waybill.No
			}
			if f := byID[o.OrderID]; f != nil {
				switch {
				case f.HandedOverAt != nil:
					it.Stage = "handed_over"
				case f.VerifiedAt != nil:
					it.Stage = "verified"
				case f.PickedAt != nil:
					it.Stage = "picked"
				}
			}
			out = append(out, it)
			return true
		})
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) sla(w http.ResponseWriter, r *http.Request) {
	facts, err := s.facts(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := SLAAlarms(facts, s.opts.Now())
	if out == nil {
		out = []Alarm{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) heatmap(w http.ResponseWriter, r *http.Request) {
	facts, err := s.facts(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, Heat(facts, s.opts.Now(), s.opts.Location))
}

func (s *Server) spread(w http.ResponseWriter, r *http.Request) {
	facts, err := s.facts(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, DaySpread(facts, s.opts.Now(), s.opts.Location))
}

type statusResp struct {
	StatusView
	Known         bool           `json:"known"`
	FeedCursor    uint64         `json:"feed_cursor"`
	OutboxPending int            `json:"outbox_pending"`
	OutboxOldest  *time.Time     `json:"outbox_oldest,omitempty"`
	Printers      []PrinterState `json:"printers"`
	Live          int            `json:"live_connections"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	resp := statusResp{StatusView: StatusView{HubLink: HubLink{State: "unknown"}, Devices: []wire.Device{}}, Printers: []PrinterState{}}
	if s.opts.Status != nil {
		v, err := s.opts.Status.Status(r.Context())
		if err != nil {
			s.fail(w, err)
			return
		}
		resp.StatusView, resp.Known = v, true
	}
	if s.opts.Printing != nil {
		if ps, err := s.opts.Printing.Printers(r.Context()); err == nil {
			resp.Printers = ps
		}
	}
	pending, oldest, err := s.opts.Store.OutboxStats()
	if err != nil {
		s.fail(w, err)
		return
	}
	resp.OutboxPending = pending
	if !oldest.IsZero() {
		resp.OutboxOldest = &oldest
	}
	resp.FeedCursor, _ = s.opts.Store.LastFeedSeq()
	resp.Live = s.hub.Subscribers()
	writeJSON(w, http.StatusOK, resp)
}

type quarantineView struct {
	ID     uint64    `json:"id"`
	Seq    uint64    `json:"seq,omitempty"`
	Topic  string    `json:"topic"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Raw    string    `json:"raw"` // as text when it is UTF-8, else hex; cut at 4 KiB
	Size   int       `json:"size"`
}

func (s *Server) quarantine(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Store.QuarantineList(100)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]quarantineView, 0, len(list))
	for _, q := range list {
		raw := q.Raw
		if len(raw) > 4096 {
			raw = raw[:4096]
		}
		txt := string(raw)
		if !utf8.Valid(raw) {
			txt = "hex:" + hex.EncodeToString(raw)
		}
		out = append(out, quarantineView{ID: q.ID, Seq: q.Seq, Topic: q.Topic, Reason: q.Reason, At: q.At, Raw: txt, Size: len(q.Raw)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aq := store.AuditQuery{OrderID: strings.TrimSpace(q.Get("order")), Operator: strings.TrimSpace(q.Get("operator")), Limit: 200}
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "invalid", "after 必须是数字", "after must be a number")
			return
		}
		aq.AfterSeq = n
	}
	if l := q.Get("limit"); l != "" {
		if n, err := strconv.Atoi(l); err == nil && n > 0 && n <= 1000 {
			aq.Limit = n
		}
	}
	recs, err := s.opts.Store.Audit(aq)
	if err != nil {
		s.fail(w, err)
		return
	}
	if recs == nil {
		recs = []store.AuditRecord{}
	}
	writeJSON(w, http.StatusOK, recs)
}
