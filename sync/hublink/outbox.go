package hublink

import (
	"context"
	"fmt"
	"time"
)

// pubTok is one publish waiting for the broker's PUBACK.
type pubTok struct {
	seq uint64
	tok Token
	at  time.Time
}

// outboxLoop publishes recorded events in seq order, at most Window of them
// unacked by the hub, and drops them from the store only when the hub's
// acked_seq covers them. After a reconnect or an ack timeout it publishes
// again from the first unacked event; a re-sent event is the stored bytes.
func (l *Link) outboxLoop(ctx context.Context) {
	var (
		gen       int
		inflight  []uint64 // published, not yet acked by the hub; ascending
		toks      []pubTok // publishes waiting for the broker's PUBACK
		sentUpTo  uint64   // the highest seq published in this session
		maxSent   uint64   // the highest seq ever published (to count re-sendings)
		acked     uint64   // the hub's acked_seq as applied to the store
		progress  = time.Now()
		statsAt   time.Time
		alarm     bool
		lastErr   string
		storeFail = func(op string, err error) {
			if err.Error() != lastErr {
				l.log.Error("hub outbox: store error", "op", op, "err", err)
				lastErr = err.Error()
			}
			l.setProblem("outbox-store", fmt.Sprintf("events cannot be read from the store (%s): %v", op, err))
		}
	)
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		now := time.Now()
		s := l.session()
		switch {
		case s == nil:
			gen, inflight, toks = 0, inflight[:0], toks[:0]
		case s.gen != gen:
			gen, inflight, toks = s.gen, inflight[:0], toks[:0]
			sentUpTo, progress = acked, now
		}

		// The hub's acks.
		if a := l.ackSeq.Load(); a > acked {
			removed, err := l.out.AckOutbox(a)
			if err != nil {
				storeFail("ack", err)
			} else {
				lastErr = ""
				l.setProblem("outbox-store", "")
				acked = a
				l.log.Debug("hub outbox: acked", "seq", a, "removed", removed)
				l.m.acked.Add(float64(removed))
				i := 0
				for i < len(inflight) && inflight[i] <= a {
					i++
				}
				inflight = append(inflight[:0], inflight[i:]...)
				sentUpTo = max(sentUpTo, a)
				progress = now
				l.setProblem("acks", "")
				l.mu.Lock()
				l.state.AckedSeq = a
				l.mu.Unlock()
			}
		}

		// The broker's PUBACKs: only to notice a broker that refuses or stalls.
		for len(toks) > 0 {
			t := toks[0]
			select {
			case <-t.tok.Done():
				if err := t.tok.Error(); err != nil {
					l.log.Warn("hub outbox: publish failed", "seq", t.seq, "err", err)
				} else {
					l.setProblem("publish", "")
				}
				toks = toks[1:]
				continue
			default:
			}
			if now.Sub(t.at) >= l.cfg.AckTimeout {
				l.setProblem("publish", fmt.Sprintf("the broker has not confirmed event %d for %s: it may refuse this agent's events topic (check its ACL)",
					t.seq, now.Sub(t.at).Round(time.Second)))
			}
			break
		}

		// No hub ack for too long: publish again from the first unacked event.
		if s != nil && len(inflight) > 0 && now.Sub(progress) >= l.cfg.AckTimeout {
			l.log.Warn("hub outbox: no ack from the hub in time; publishing again",
				"from_seq", inflight[0], "unacked", len(inflight), "timeout", l.cfg.AckTimeout)
			l.setProblem("acks", fmt.Sprintf("the hub has not acknowledged events since seq %d for %s (is the hub running? may the agent publish its events?)",
				inflight[0], now.Sub(progress).Round(time.Second)))
			inflight, toks = inflight[:0], toks[:0]
			sentUpTo, progress = acked, now
		}

		// Fill the window.
		if s != nil {
		fill:
			for len(inflight) < l.cfg.Window {
				recs, err := l.out.OutboxAfter(sentUpTo, min(l.cfg.Window-len(inflight), 256))
				if err != nil {
					storeFail("read", err)
					break
				}
				if len(recs) == 0 {
					break
				}
				for _, r := range recs {
					t := s.c.Publish(l.topics.Events, false, r.Payload)
					select {
					case <-t.Done():
						if t.Error() != nil {
							break fill // not connected any more; the session change resets
						}
					default:
					}
					if len(inflight) == 0 {
						progress = now
					}
					if r.Seq <= maxSent {
						l.m.resent.Inc()
					}
					maxSent = max(maxSent, r.Seq)
					l.m.published.Inc()
					inflight = append(inflight, r.Seq)
					toks = append(toks, pubTok{seq: r.Seq, tok: t, at: now})
					sentUpTo = r.Seq
				}
			}
		}

		if now.Sub(statsAt) >= time.Second {
			statsAt = now
			alarm = l.outboxStats(alarm)
		}

		wait := time.Second
		if len(inflight) > 0 {
			wait = min(wait, max(l.cfg.AckTimeout-now.Sub(progress), time.Millisecond))
		}
		if len(toks) > 0 {
			wait = min(wait, max(l.cfg.AckTimeout-now.Sub(toks[0].at), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-l.out.OutboxSignal():
		case <-l.ackKick:
		case <-l.outKick:
		case <-timer.C:
		}
		if len(toks) > 0 {
			// Let PUBACKs that came meanwhile be seen without spinning.
			select {
			case <-toks[0].tok.Done():
			default:
			}
		}
	}
}

// outboxStats refreshes the outbox gauges and the alarm; it returns whether
// the alarm is on.
func (l *Link) outboxStats(alarm bool) bool {
	pending, oldest, err := l.out.OutboxStats()
	if err != nil {
		return alarm
	}
	l.m.outPending.Set(float64(pending))
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	l.m.outOldest.Set(age)
	level := int(float64(l.cfg.OutboxCap) * l.cfg.OutboxAlarmRatio)
	switch {
	case !alarm && pending >= level:
		alarm = true
		l.log.Error("hub outbox alarm: events are piling up, the hub is not taking them",
			"pending", pending, "alarm_at", level, "cap", l.cfg.OutboxCap, "oldest", oldest)
	case alarm && pending < level*9/10:
		alarm = false
		l.log.Info("hub outbox alarm cleared", "pending", pending)
	}
	if alarm {
		text := fmt.Sprintf("%d events wait for the hub (alarm at %d, sized for %d); oldest since %s: check the network and the hub",
			pending, level, l.cfg.OutboxCap, oldest.Format(time.DateTime))
		if pending >= l.cfg.OutboxCap {
			text = "OUTBOX FULL: " + text
		}
		l.setProblem("outbox", text)
	} else {
		l.setProblem("outbox", "")
	}
	l.m.outAlarm.Set(b2f(alarm))
	l.mu.Lock()
	l.state.OutboxPending, l.state.OutboxOldest, l.state.OutboxAlarm = pending, oldest, alarm
	l.mu.Unlock()
	return alarm
}
