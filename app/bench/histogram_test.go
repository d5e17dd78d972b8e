package bench

import (
	"math"
	"testing"
	"time"
)

func TestHistogramIsWithinOnePercent(t *testing.T) {
	for _, us := range []uint64{0, 1, 127, 128, 129, 1000, 12345, 987654, 55e6, 1 << 39} {
		got := bucketValue(bucketOf(us))
		if us > 0 && math.Abs(got-float64(us))/float64(us) > 0.01 {
			t.Errorf("%d µs reads back as %.1f", us, got)
		}
	}
	for i := 1; i < histBuckets; i++ {
		if bucketValue(i) <= bucketValue(i-1) {
			t.Fatalf("bucket %d does not grow: %v after %v", i, bucketValue(i), bucketValue(i-1))
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	p := h.percentiles()
	near := func(name string, got, want float64) {
		if math.Abs(got-want)/want > 0.01 {
			t.Errorf("%s = %.2f ms, want about %.0f", name, got, want)
		}
	}
	near("p50", p.P50, 500)
	near("p90", p.P90, 900)
	near("p99", p.P99, 990)
	if p.Max != 1000 || p.Count != 1000 {
		t.Errorf("max %v count %d", p.Max, p.Count)
	}
	var empty histogram
	if p := empty.percentiles(); p != (Percentiles{}) {
		t.Errorf("empty: %+v", p)
	}
}
