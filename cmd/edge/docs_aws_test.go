package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"edge/internal/testutil"
)

// shell is one sh session: the README's commands run in it in order, so
// variables set by one ($TS, $LB) are there for the next, as in a
// terminal.
type shell struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	work string
	n    int
}

func newShell(t *testing.T, work string) *shell {
	sh := &shell{t: t, cmd: exec.Command("sh"), work: work}
	sh.cmd.Dir = work
	sh.cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var err error
	if sh.in, err = sh.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	pr, err := sh.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sh.out = bufio.NewReader(pr)
	if err := sh.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.in.Close(); sh.cmd.Wait() })
	return sh
}

// run runs cmd in the session and returns what it wrote on stdout and
// stderr.
func (sh *shell) run(cmd string) (stdout, stderr string) {
	sh.n++
	o, e := filepath.Join(sh.work, fmt.Sprintf(".out%d", sh.n)), filepath.Join(sh.work, fmt.Sprintf(".err%d", sh.n))
	fmt.Fprintf(sh.in, "{ %s\n} >%s 2>%s; echo @@@done\n", cmd, o, e)
	for {
		line, err := sh.out.ReadString('\n')
		if err != nil {
			sh.t.Fatalf("the shell ended during %q: %v", cmd, err)
		}
		if line == "@@@done\n" {
			break
		}
	}
	ob, _ := os.ReadFile(o)
	eb, _ := os.ReadFile(e)
	return string(ob), string(eb)
}

// terminal is what a terminal shows of s: progress lines overwritten by
// carriage returns show their last state.
func terminal(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if j := strings.LastIndex(l, "\r"); j >= 0 {
			l = l[j+1:]
		}
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// The README's AWS endpoint walkthrough, run as written: one shell session
// (./edge is the binary under test; edge serve --aws runs in the
// background on free ports, which the commands are pointed at), each
// command's output compared with the README's, and the connection log
// checked for Jane's refusal.
func TestREADMEAWSWalkthrough(t *testing.T) {
	needTool(t, "the aws CLI", "aws", "--version")
	needTool(t, "curl", "curl", "--version")
	readme := docFiles(t)["README.md"]
	start := strings.Index(readme, "## AWS endpoint: the CRL article, replayed")
	end := strings.Index(readme[start:], "\n### Setting up clients")
	if start < 0 || end < 0 {
		t.Fatal("README has no AWS endpoint walkthrough")
	}
	work := t.TempDir()
	if err := os.Symlink(edgeBin, filepath.Join(work, "edge")); err != nil {
		t.Fatal(err)
	}
	sh := newShell(t, work)
	serials := map[string]string{}
	var served *process
	port := fmt.Sprint(freePortNumber(t))
	steps := 0
	for _, f := range fences(readme[start : start+end]) {
		if f.lang != "console" {
			continue
		}
		type step struct{ cmd, out string }
		var cmds []step
		for _, line := range strings.Split(strings.TrimRight(f.body, "\n"), "\n") {
			if c, ok := strings.CutPrefix(line, "$ "); ok {
				cmds = append(cmds, step{cmd: c})
			} else if len(cmds) > 0 {
				cmds[len(cmds)-1].out += line + "\n"
			}
		}
		for _, s := range cmds {
			cmd := s.cmd
			for readmeSerial, real := range serials {
				cmd = strings.ReplaceAll(cmd, readmeSerial, real)
			}
			switch {
			case strings.HasPrefix(cmd, "./edge "):
			case strings.HasPrefix(cmd, "export AWS_ENDPOINT_URL=http://127.0.0.1:4566 "):
				served = startEdgeProcess(t, work, "serve", "--aws", "127.0.0.1:0", "--state-dir", "state")
				cmd = strings.Replace(cmd, "http://127.0.0.1:4566", *served.ready.AWSEndpointURL, 1)
			case strings.HasPrefix(cmd, "aws "), strings.HasPrefix(cmd, "curl "), strings.Contains(cmd, "=$(aws "):
				if served == nil {
					t.Fatalf("the README runs %q before pointing the CLI at edge", cmd)
				}
				cmd = strings.ReplaceAll(cmd, "8443", port)
			default:
				t.Fatalf("the walkthrough runs %q; teach this test what it means", cmd)
			}
			steps++
			stdout, stderr := sh.run(cmd)
			got := terminal(stdout)
			for _, l := range strings.SplitAfter(stderr, "\n") {
				// curl's progress meter shows only when stdout is not a
				// terminal; what a terminal shows is its error line.
				if !strings.HasPrefix(cmd, "curl ") || strings.HasPrefix(l, "curl: ") {
					got += l
				}
			}
			if !sameOutput(s.out, got, serials) {
				t.Errorf("$ %s\nREADME shows:\n%s\nthe run printed:\n%s", s.cmd, s.out, got)
			}
		}
	}
	if steps < 15 {
		t.Errorf("ran only %d walkthrough commands", steps)
	}
	if served == nil {
		t.Fatal("edge never served")
	}
	if st := served.connStatus(t, port, "Jane Doe", 0); st != "Success" {
		t.Errorf("Jane's first connection: %s", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(served.stdout.String(), "Failed:ClientCertCrlHit") {
		if time.Now().After(deadline) {
			t.Fatalf("no Failed:ClientCertCrlHit in edge's connection log:\n%s", served.stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The connection-log line the README shows has the shape of the one
	// edge wrote: the same status, subject and load balancer (app/my-alb/ID,
	// the ID of the load balancer's ARN).
	var shown map[string]string
	for _, f := range fences(readme[start : start+end]) {
		if f.lang == "text" && strings.Contains(f.body, "Failed:ClientCertCrlHit") {
			shown = testutil.ParseConnLine(strings.TrimSpace(f.body))
		}
	}
	var logged map[string]string
	for _, l := range strings.Split(served.stdout.String(), "\n") {
		if f := testutil.ParseConnLine(l); f != nil && f["tls_verify_status"] == "Failed:ClientCertCrlHit" {
			logged = f
		}
	}
	lbID, _ := sh.run(`aws elbv2 describe-load-balancers --names my-alb --query 'LoadBalancers[0].LoadBalancerArn' --output text`)
	lbID = strings.TrimSpace(lbID)
	lbID = lbID[strings.LastIndexByte(lbID, '/')+1:]
	switch {
	case shown == nil:
		t.Error("the README shows no Failed:ClientCertCrlHit connection-log line")
	case logged == nil:
		t.Error("edge logged no parsable Failed:ClientCertCrlHit line")
	default:
		if logged["elb"] != "app/my-alb/"+lbID {
			t.Errorf("edge logged elb %q; want app/my-alb/%s", logged["elb"], lbID)
		}
		if !regexp.MustCompile(`^app/my-alb/[0-9a-f]{16}$`).MatchString(shown["elb"]) {
			t.Errorf("the README's line shows elb %q; edge writes app/my-alb/<16 hex digits> for the walkthrough's my-alb", shown["elb"])
		}
		for _, k := range []string{"leaf_client_cert_subject", "tls_verify_status", "listener_port", "ip_address"} {
			want := logged[k]
			if k == "listener_port" {
				want = "8443"
			}
			if shown[k] != want {
				t.Errorf("the README's line shows %s %q; edge logged %q", k, shown[k], logged[k])
			}
		}
	}
	// The restart and the export the README describes.
	served.stop(t)
	again := startEdgeProcess(t, work, "serve", "--aws", "127.0.0.1:0", "--state-dir", "state")
	from := again.lines()
	curlGet(t, work, ".edge", port, "pki/jane-doe-fullchain.pem", "pki/jane-doe.key")
	if st := again.connStatus(t, port, "Jane Doe", from); st != "Failed:ClientCertCrlHit" {
		t.Errorf("after the restart: %s", st)
	}
	again.stop(t)
	mustEdge(t, work, "export", "--state-dir", "state", "--out", "exported")
	x := startEdgeProcess(t, work, "serve", "-c", "exported/edge.yaml")
	from = x.lines()
	curlGet(t, work, "exported/.edge", port, "pki/jane-doe-fullchain.pem", "pki/jane-doe.key")
	if st := x.connStatus(t, port, "Jane Doe", from); st != "Failed:ClientCertCrlHit" {
		t.Errorf("served from the export: %s", st)
	}
}
