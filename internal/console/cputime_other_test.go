//go:build !unix

package console_test

import "time"

// cpuTime is not measured here; BenchmarkConsoleCost's CPU figures are 0.
func cpuTime() time.Duration { return 0 }
