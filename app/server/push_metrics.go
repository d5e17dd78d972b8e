package server

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"beacon/app/store"
)

// pushConns is how many idle connections to one push service are kept for
// the next pushes (jobs.perHost bounds how many are out at once).
const pushConns = 128

// pushMetrics counts what the push services answered.
type pushMetrics struct {
	sent   *prometheus.CounterVec
	failed *prometheus.CounterVec
}

func newPushMetrics() *pushMetrics {
	return &pushMetrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_webpush_sent_total",
			Help: "Pushes a push service accepted, by kind (notification, update, withdraw).",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_webpush_failed_total",
			Help: "Pushes a push service refused or did not answer, by its status (error: no answer).",
		}, []string{"status"}),
	}
}

func (m *pushMetrics) Sent(kind string)     { m.sent.WithLabelValues(kind).Inc() }
func (m *pushMetrics) Failed(status string) { m.failed.WithLabelValues(status).Inc() }

// collectors are the counters, and the pushes owed and the devices
// subscribed, as the database has them when /metrics is read (the same
// on every instance).
func (m *pushMetrics) collectors(st *store.Store) []prometheus.Collector {
	return []prometheus.Collector{m.sent, m.failed, pushCounts{st}}
}

var (
	pendingDesc = prometheus.NewDesc("beacon_webpush_pending",
		"Pushes owed and not yet sent (waiting for WEBPUSH_DELAY, or to be retried), on all instances.", nil, nil)
	subscriptionsDesc = prometheus.NewDesc("beacon_webpush_subscriptions",
		"Devices subscribed to Web Push, on all instances.", nil, nil)
)

// pushCounts reads both gauges with one query per scrape.
type pushCounts struct{ st *store.Store }

func (pushCounts) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- subscriptionsDesc
}

func (p pushCounts) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pending, subs := math.NaN(), math.NaN() // unknown, not zero, and the rest of /metrics still served
	if c, err := p.st.CountPushes(ctx); err == nil {
		pending, subs = float64(c.Pending), float64(c.Subscriptions)
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, pending)
	ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, subs)
}
