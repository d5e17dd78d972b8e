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
	count := func(pick func(store.PushCounts) int64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			c, err := st.CountPushes(ctx)
			if err != nil {
				return math.NaN() // unknown, not zero
			}
			return float64(pick(c))
		}
	}
	return []prometheus.Collector{m.sent, m.failed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_webpush_pending",
			Help: "Pushes owed and not yet sent (waiting for WEBPUSH_DELAY, or to be retried), on all instances.",
		}, count(func(c store.PushCounts) int64 { return c.Pending })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_webpush_subscriptions",
			Help: "Devices subscribed to Web Push, on all instances.",
		}, count(func(c store.PushCounts) int64 { return c.Subscriptions })),
	}
}
