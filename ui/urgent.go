package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui/live"
)

// Popup is an urgent message a person must acknowledge: an urgent hub notice for
// some roles, or an urgent order (加急) for the managers.
type Popup struct {
	ID        string    `json:"id"` // notice:{notice_id} or order:{order_id}
	Kind      string    `json:"kind"`
	TextZH    string    `json:"text_zh"`
	TextEN    string    `json:"text_en"`
	Roles     []string  `json:"roles"`
	OrderID   string    `json:"order_id,omitempty"`
	Created   time.Time `json:"created"`
	Escalated bool      `json:"escalated"`
}

// urgentAck is what CollUrgentAck keeps per popup, keyed by the notice id or
// the order id (the same keys and fields agent/floor's AckUrgent uses).
type urgentAck struct {
	ID        string    `json:"id"`
	Station   string    `json:"station,omitempty"`
	By        string    `json:"operator"`
	Role      string    `json:"role"`
	At        time.Time `json:"at"`
	LatencyMS int64     `json:"latency_ms"`
	EventSeq  uint64    `json:"event_seq"`
}

// urgentBoard finds the popups still waiting for an acknowledgement, pushes new
// ones, escalates old ones and records acknowledgements.
type urgentBoard struct {
	s *Server

	mu        sync.Mutex
	announced map[string]bool
	escalated map[string]bool
}

func newUrgentBoard(s *Server) *urgentBoard {
	return &urgentBoard{s: s, announced: make(map[string]bool), escalated: make(map[string]bool)}
}

// urgentLister is optional on Facts: the urgent released open orders first
// seen after since, by id, from an index instead of a pass over every order.
type urgentLister interface {
	UrgentOrders(ctx context.Context, since time.Time) ([]string, error)
}

// urgentWindow: an urgent order older than this no longer pops up (it is on the
// SLA alarms instead).
const urgentWindow = 24 * time.Hour

func orderPopup(r *store.OrderRecord) Popup {
	o := &r.Order
	reasons := strings.Join(r.Reasons, ", ")
	if reasons == "" {
		reasons = strings.Join(o.PriorityReasons, ", ")
	}
	zh := "加急单 " + o.OrderID
	en := "urgent order " + o.OrderID
	if reasons != "" {
		zh += "(" + reasons + ")"
		en += " (" + reasons + ")"
	}
	if o.PromisedShipBy != nil {
		zh += ",最晚 " + o.PromisedShipBy.Format("01-02 15:04") + " 交接"
		en += ", hand over by " + o.PromisedShipBy.Format("01-02 15:04")
	}
	return Popup{ID: "order:" + o.OrderID, Kind: "order", TextZH: zh, TextEN: en,
		Roles: []string{string(people.RoleManager)}, OrderID: o.OrderID, Created: r.FirstSeen}
}

func noticePopup(n store.StoredNotice) Popup {
	return Popup{ID: "notice:" + n.NoticeID, Kind: "notice", TextZH: n.Text, TextEN: n.Text,
		Roles: n.Roles, Created: n.At}
}

func (p *Popup) forRole(role string) bool {
	return len(p.Roles) == 0 || slices.Contains(p.Roles, role) || role == string(people.RoleManager)
}

// all returns every popup not yet acknowledged.
func (b *urgentBoard) all() ([]Popup, error) {
	now := b.s.opts.Now()
	var out []Popup
	// The candidates from the floor's index when it keeps one (nil: read every
	// open order).
	var ids []string
	if u, ok := b.s.opts.Facts.(urgentLister); ok {
		var err error
		if ids, err = u.UrgentOrders(context.Background(), now.Add(-urgentWindow)); err != nil {
			return nil, fmt.Errorf("list urgent popups: %w", err)
		}
		if ids == nil {
			ids = []string{}
		}
	}
	err := b.s.opts.Store.View(func(tx *store.Tx) error {
		acked := func(id string) bool { return tx.GetRaw(store.CollUrgentAck, id) != nil }
		ns, err := tx.Notices()
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.Level == "urgent" && !acked(n.NoticeID) {
				out = append(out, noticePopup(n))
			}
		}
		add := func(r *store.OrderRecord) bool {
			if r.Urgent && r.Order.Status == wire.StatusReleased && now.Sub(r.FirstSeen) < urgentWindow && !acked(r.Order.OrderID) {
				out = append(out, orderPopup(r))
			}
			return true
		}
		if ids == nil {
			return tx.OpenOrders(add)
		}
		for _, id := range ids {
			if r, err := tx.Order(id); err == nil {
				add(r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list urgent popups: %w", err)
	}
	for i := range out {
		out[i].Escalated = now.Sub(out[i].Created) >= b.s.opts.EscalateAfter
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

func (b *urgentBoard) pending(role string) []Popup {
	all, err := b.all()
	if err != nil {
		b.s.log.Warn("urgent popups", "err", err)
		return nil
	}
	out := []Popup{}
	for _, p := range all {
		if p.forRole(role) {
			out = append(out, p)
		}
	}
	return out
}

func (b *urgentBoard) push(p Popup) {
	var roles []string // nil: everyone
	if len(p.Roles) > 0 {
		roles = slices.Clone(p.Roles)
		if !slices.Contains(roles, string(people.RoleManager)) {
			roles = append(roles, string(people.RoleManager))
		}
	}
	b.s.hub.Publish(live.TypeUrgent, live.Audience{Roles: roles}, p)
}

// announceExisting marks what is already pending at start as announced (pages
// load it with GET /api/urgent), so a restart does not re-push everything.
func (b *urgentBoard) announceExisting(ctx context.Context) {
	all, _ := b.all()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range all {
		b.announced[p.ID] = true
		b.escalated[p.ID] = p.Escalated
	}
}

// onChange pushes the popups that store changes created. It looks only at the
// orders and notices the changes name, so a busy feed costs little.
func (b *urgentBoard) onChange(ctx context.Context, chs []store.Change) {
	var ids []string
	var notices []wire.Notice
	for _, c := range chs {
		ids = append(ids, c.Orders...)
		notices = append(notices, c.Notices...)
	}
	if len(ids) == 0 && len(notices) == 0 {
		return
	}
	now := b.s.opts.Now()
	var fresh []Popup
	err := b.s.opts.Store.View(func(tx *store.Tx) error {
		acked := func(id string) bool { return tx.GetRaw(store.CollUrgentAck, id) != nil }
		if len(notices) > 0 {
			stored, err := tx.Notices()
			if err != nil {
				return err
			}
			for _, n := range stored {
				if n.Level == "urgent" && !acked(n.NoticeID) && slices.ContainsFunc(notices, func(x wire.Notice) bool { return x.NoticeID == n.NoticeID }) {
					fresh = append(fresh, noticePopup(n))
				}
			}
		}
		for _, id := range ids {
			r, err := tx.Order(id)
			if err != nil {
				continue // gone again
			}
			if r.Urgent && r.Order.Status == wire.StatusReleased && now.Sub(r.FirstSeen) < urgentWindow && !acked(id) {
				fresh = append(fresh, orderPopup(r))
			}
		}
		return nil
	})
	if err != nil {
		b.s.log.Warn("urgent popups", "err", err)
		return
	}
	b.announce(fresh)
}

// rescan pushes every pending popup not pushed yet (after more changes than
// onChange could be told about).
func (b *urgentBoard) rescan(ctx context.Context) {
	all, err := b.all()
	if err != nil {
		b.s.log.Warn("urgent popups", "err", err)
		return
	}
	b.announce(all)
}

// announce pushes the popups not pushed before, once each.
func (b *urgentBoard) announce(popups []Popup) {
	b.mu.Lock()
	var push []Popup
	for _, p := range popups {
		if !b.announced[p.ID] {
			b.announced[p.ID] = true
			push = append(push, p)
		}
	}
	b.mu.Unlock()
	for _, p := range push {
		b.push(p)
	}
}

// escalate re-pushes, louder and to every manager, popups left unacknowledged
// for EscalateAfter.
func (b *urgentBoard) escalate(ctx context.Context) {
	all, err := b.all()
	if err != nil {
		b.s.log.Warn("urgent popups", "err", err)
		return
	}
	b.mu.Lock()
	var due []Popup
	for _, p := range all {
		if p.Escalated && !b.escalated[p.ID] {
			b.escalated[p.ID] = true
			b.announced[p.ID] = true
			due = append(due, p)
		}
	}
	b.mu.Unlock()
	for _, p := range due {
		b.push(p)
	}
}

// ack records that ss acknowledged popup id: the acknowledgement and the
// urgent.acknowledged event (with the latency since the popup appeared) are
// written in one transaction. A second ack of the same popup returns the first.
func (b *urgentBoard) ack(ss people.Session, id string) (urgentAck, bool, error) {
	all, err := b.all()
	if err != nil {
		return urgentAck{}, false, err
	}
	var p *Popup
	for i := range all {
		if all[i].ID == id {
			p = &all[i]
		}
	}
	var rec urgentAck
	already := false
	key := strings.TrimPrefix(strings.TrimPrefix(id, "notice:"), "order:")
	err = b.s.opts.Store.Update(func(tx *store.Tx) error {
		found, err := tx.Get(store.CollUrgentAck, key, &rec)
		if err != nil || found {
			already = found
			return err
		}
		if p == nil {
			return &FloorError{Status: http.StatusNotFound, Code: "not_found", ZH: "没有这条提醒", EN: "no such popup"}
		}
		if !p.forRole(string(ss.Role)) {
			return &FloorError{Status: http.StatusForbidden, Code: "forbidden", ZH: "这条提醒不是给你的角色", EN: "this popup is not for your role"}
		}
		now := tx.Now()
		rec = urgentAck{ID: id, Station: ss.Station, By: ss.Operator, Role: string(ss.Role), At: now, LatencyMS: max(0, now.Sub(p.Created).Milliseconds())}
		ev := wire.Event{Type: wire.EventUrgentAcknowledged, OrderID: p.OrderID,
			Station: wire.OptString(ss.Station), Operator: wire.OptString(ss.Operator)}
		data := wire.UrgentAckData{LatencyMS: rec.LatencyMS, Role: rec.Role}
		if p.Kind == "notice" {
			data.NoticeID = strings.TrimPrefix(id, "notice:")
		}
		if err := ev.SetData(data); err != nil {
			return err
		}
		if _, err := tx.AppendEvent(&ev); err != nil {
			return err
		}
		rec.EventSeq = ev.Seq
		if _, err := tx.AppendAudit(store.AuditRecord{At: now, Operator: ss.Operator, Station: ss.Station, Action: "urgent.ack",
			OrderID: p.OrderID, OK: true, Detail: fmt.Sprintf("%s latency %d ms", id, rec.LatencyMS), EventSeq: ev.Seq}); err != nil {
			return err
		}
		return tx.Put(store.CollUrgentAck, key, &rec)
	})
	if err != nil {
		return urgentAck{}, false, fmt.Errorf("acknowledge %s: %w", id, err)
	}
	if !already {
		b.s.hub.Publish(live.TypeAck, live.Audience{}, map[string]any{"id": id, "by": rec.By, "latency_ms": rec.LatencyMS})
	}
	return rec, already, nil
}

func (s *Server) urgentList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.urgent.pending(string(sessionOf(r).Role)))
}

func (s *Server) urgentAck(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID string `json:"id"`
	}
	if !decode(w, r, &req) {
		return
	}
	rec, already, err := s.urgent.ack(sessionOf(r), req.ID)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "already": already, "ack": rec})
}
