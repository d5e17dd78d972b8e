package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts durations in log-linear buckets of microseconds (under
// 1% error), lock-free, so that thousands of clients can record into one.
type histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64 // nanoseconds, exact
}

const (
	histSub     = 7 // 2^7 buckets per power of two above 128 µs
	histBuckets = 1<<histSub + 40<<histSub
)

func bucketOf(us uint64) int {
	if us < 1<<histSub {
		return int(us)
	}
	shift := bits.Len64(us) - histSub - 1
	i := 1<<histSub + shift<<histSub + int(us>>shift) - 1<<histSub
	return min(i, histBuckets-1)
}

// bucketValue is the middle of bucket i, in microseconds.
func bucketValue(i int) float64 {
	if i < 1<<histSub {
		return float64(i)
	}
	shift := (i - 1<<histSub) >> histSub
	low := uint64(1<<histSub+(i-1<<histSub)&(1<<histSub-1)) << shift
	return float64(low) + float64(uint64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0 // clocks of one machine: only rounding makes this happen
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Percentiles are in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (h *histogram) percentiles() Percentiles {
	p := Percentiles{Count: h.n.Load(), Max: float64(h.max.Load()) / 1e6}
	if p.Count == 0 {
		return p
	}
	p.P50, p.P90, p.P99 = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99)
	return p
}

// quantile is the value at rank ceil(q·n), in milliseconds, never above
// the exact maximum.
func (h *histogram) quantile(q float64) float64 {
	n := h.n.Load()
	rank := int64(q*float64(n) + 0.999999)
	rank = max(1, min(rank, n))
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			return min(bucketValue(i)/1e3, float64(h.max.Load())/1e6)
		}
	}
	return float64(h.max.Load()) / 1e6
}
