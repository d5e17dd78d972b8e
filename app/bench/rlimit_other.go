//go:build !unix

package bench

// RaiseFileLimit has nothing to raise here.
func RaiseFileLimit() (uint64, error) { return 0, nil }

func selfCPU() float64 { return 0 }
