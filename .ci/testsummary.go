//go:build ignore

// testsummary reads `go test -json` events on stdin and prints what a
// person needs from a CI run: one line per package, the whole output of
// every failed test, and every skipped test with its reason (a skip is
// otherwise visible only under -v). It exits 1 when anything failed.
//
//	go test -json ./... | go run .ci/testsummary.go
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	out := map[string]*strings.Builder{} // package + test → output
	var skips, fails []string
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // a build error or other plain output
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			b := out[key]
			if b == nil {
				b = &strings.Builder{}
				out[key] = b
			}
			b.WriteString(e.Output)
		case "skip":
			if e.Test != "" {
				skips = append(skips, fmt.Sprintf("SKIP %s %s: %s", e.Package, e.Test, reason(out[key])))
			}
		case "fail":
			failed = true
			if e.Test != "" {
				fails = append(fails, fmt.Sprintf("--- FAIL %s %s\n%s", e.Package, e.Test, text(out[key])))
			} else {
				fmt.Printf("FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
				if b := out[key]; b != nil && !strings.Contains(b.String(), "--- FAIL") {
					fmt.Print(b.String()) // a build or setup failure
				}
			}
		case "pass":
			if e.Test == "" {
				fmt.Printf("ok\t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
		}
	}
	sort.Strings(skips)
	if len(skips) > 0 {
		fmt.Printf("\n%d skipped tests:\n%s\n", len(skips), strings.Join(skips, "\n"))
	}
	for _, f := range fails {
		fmt.Printf("\n%s", f)
	}
	if failed {
		os.Exit(1)
	}
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

// reason is the skip message: the test's output without the RUN/SKIP
// framing lines.
func reason(b *strings.Builder) string {
	var lines []string
	for _, l := range strings.Split(text(b), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		lines = append(lines, t)
	}
	return strings.Join(lines, " / ")
}
