package hublink

import (
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the link's Prometheus metrics. A nil *metrics is valid and
// records nothing (the inbox used on its own).
type metrics struct {
	feed        *prometheus.CounterVec
	feedLast    prometheus.Gauge
	replays     prometheus.Counter
	snapshots   prometheus.Counter
	outPending  prometheus.Gauge
	outOldest   prometheus.Gauge
	outAlarm    prometheus.Gauge
	published   prometheus.Counter
	acked       prometheus.Counter
	resent      prometheus.Counter
	connected   prometheus.Gauge
	reconnects  prometheus.Counter
	connectFail prometheus.Counter
	refused     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "dockhand", "hub"
	m := &metrics{
		feed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "feed_messages_total",
			Help: "Feed messages by outcome: applied, duplicate, stale, unknown (kind), quarantined."}, []string{"outcome"}),
		feedLast: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "feed_last_seq",
			Help: "The last feed seq applied to the store."}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "feed_replays_requested_total",
			Help: "Replay requests sent to the hub (every reconnect and every gap)."}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "feed_snapshots_applied_total",
			Help: "Snapshots applied."}),
		outPending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "outbox_pending",
			Help: "Events recorded and not yet acked by the hub."}),
		outOldest: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "outbox_oldest_age_seconds",
			Help: "Age of the oldest event waiting for the hub's ack."}),
		outAlarm: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "outbox_alarm",
			Help: "1 when the outbox passed its alarm level (a share of its cap)."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "outbox_published_total",
			Help: "Events published (first sendings and re-sendings)."}),
		acked: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "outbox_acked_total",
			Help: "Events the hub acked and the outbox dropped."}),
		resent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "outbox_resent_total",
			Help: "Events published again after a reconnect or an ack timeout."}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "connected",
			Help: "1 while the broker session is up."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "reconnects_total",
			Help: "Sessions established after the first one."}),
		connectFail: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connect_failures_total",
			Help: "Connection attempts that failed."}),
		refused: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "refused",
			Help: "1 when the broker refused a subscription or the login (check its ACL and credentials)."}),
	}
	for _, o := range []string{"applied", "duplicate", "stale", "unknown", "quarantined"} {
		m.feed.WithLabelValues(o)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.feed, m.feedLast, m.replays, m.snapshots, m.outPending, m.outOldest,
			m.outAlarm, m.published, m.acked, m.resent, m.connected, m.reconnects, m.connectFail, m.refused} {
			reg.MustRegister(c)
		}
	}
	return m
}

func (m *metrics) apply(st wire.ApplyStats) {
	if m == nil {
		return
	}
	m.feed.WithLabelValues("applied").Add(float64(st.Applied))
	m.feed.WithLabelValues("duplicate").Add(float64(st.Duplicates))
	m.feed.WithLabelValues("stale").Add(float64(st.Stale))
	m.feed.WithLabelValues("unknown").Add(float64(st.Unknown))
	m.feed.WithLabelValues("quarantined").Add(float64(st.Quarantined))
}

func (m *metrics) duplicates(n int) {
	if m != nil {
		m.feed.WithLabelValues("duplicate").Add(float64(n))
	}
}

func (m *metrics) quarantined(n int) {
	if m != nil {
		m.feed.WithLabelValues("quarantined").Add(float64(n))
	}
}

func (m *metrics) lastSeq(s uint64) {
	if m != nil {
		m.feedLast.Set(float64(s))
	}
}

func (m *metrics) replay() {
	if m != nil {
		m.replays.Inc()
	}
}

func (m *metrics) snapshot() {
	if m != nil {
		m.snapshots.Inc()
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
