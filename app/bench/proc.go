package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// procSample is what /proc says of a local server at one moment.
type procSample struct {
	rssKiB int64
	cpu    float64 // user + system seconds since it started
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

func readProc(pid int) (procSample, error) {
	var s procSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read server memory: %w", err)
	}
	if s.rssKiB, err = vmRSS(status); err != nil {
		return s, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read server CPU time: %w", err)
	}
	s.cpu, err = cpuSeconds(stat)
	return s, err
}

// vmRSS reads the "VmRSS:  1234 kB" line of /proc/PID/status.
func vmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 2 && string(f[1]) == "kB" {
				return strconv.ParseInt(string(f[0]), 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS line in /proc/PID/status")
}

// cpuSeconds reads utime + stime, fields 14 and 15 of /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses: count from the
// last ')'.
func cpuSeconds(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/PID/stat")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/PID/stat: %d fields", len(f)+2)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/PID/stat times %q %q", f[11], f[12])
	}
	return float64(utime+stime) / clockTicks, nil
}
