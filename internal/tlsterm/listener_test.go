package tlsterm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/idle"
	"edge/internal/pki"
	"edge/internal/testutil"
	"edge/internal/truststore"
)

// pkiSet is a server certificate and a trust store (root A, intermediate
// B) with a trusted client C and an untrusted client H (root F).
type pkiSet struct {
	server      *pki.Issued
	serverRoots *x509.CertPool
	store       *truststore.Store
	trusted     *pki.Issued
	untrusted   *pki.Issued
}

func newPKI(t *testing.T) *pkiSet {
	t.Helper()
	seed := testutil.NewSeed(t)
	root := testutil.Root(t, "server root")
	srv, err := root.IssueServer(pki.Options{Subject: pkix.Name{CommonName: "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	store, err := truststore.New("seed", []*x509.Certificate{seed.A.Cert, seed.B.Cert}, nil, truststore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	return &pkiSet{server: srv, serverRoots: roots, store: store, trusted: seed.C, untrusted: seed.H}
}

func (p *pkiSet) termination(t *testing.T, mode Mode, rej Rejection) *Termination {
	t.Helper()
	certs, err := NewCertificates([]tls.Certificate{p.server.TLSCertificate()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(certs.Close)
	policy, err := LookupPolicy("")
	if err != nil {
		t.Fatal(err)
	}
	return &Termination{Policy: policy, Certificates: certs, Mode: mode, TrustStore: p.store, Rejection: rej}
}

// client returns a client configuration presenting is (nil: none).
func (p *pkiSet) client(is *pki.Issued) *tls.Config {
	cfg := &tls.Config{RootCAs: p.serverRoots, ServerName: "localhost", NextProtos: []string{"http/1.1"}}
	if is != nil {
		cfg.Certificates = []tls.Certificate{is.TLSCertificate()}
	}
	return cfg
}

// served is a Listener with hooks that record every call.
type served struct {
	l       *Listener
	results chan *Result
	mu      sync.Mutex
	calls   []string
}

func serve(t *testing.T, tlsConfig *tls.Config, timeout time.Duration) *served {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &served{results: make(chan *Result, 16)}
	s.l = NewListener(inner, Hooks{
		TLSConfig: func(c *Conn) *tls.Config {
			s.record("tls")
			c.Result.Value = "mine"
			return tlsConfig
		},
		HandshakeTimeout: func() time.Duration { s.record("timeout"); return timeout },
		OnResult:         func(r *Result) { s.record("result"); s.results <- r },
	})
	t.Cleanup(func() { s.l.Close(); s.l.Wait() })
	return s
}

func (s *served) record(call string) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

func (s *served) result(t *testing.T) *Result {
	t.Helper()
	select {
	case r := <-s.results:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no Result within 10 s")
		return nil
	}
}

// accept returns the next connection Accept hands out, or nil within d.
func (s *served) accept(d time.Duration) net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := s.l.Accept()
		if err != nil {
			c = nil
		}
		ch <- c
	}()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		return nil
	}
}

// A connection whose TLSConfig hook returns nil is plain: its Result comes
// at once (End = Start, no TLS), and Accept hands out the *Conn carrying
// it.
func TestListenerPlainConnection(t *testing.T) {
	s := serve(t, nil, 0)
	c, err := net.Dial("tcp", s.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := s.result(t)
	if r.TLS || !r.End.Equal(r.Start) || r.Status != truststore.StatusNone || r.Value != "mine" {
		t.Errorf("plain Result: TLS %v End-Start %v Status %v Value %v", r.TLS, r.End.Sub(r.Start), r.Status, r.Value)
	}
	if !regexp.MustCompile(`^TID_[0-9a-f]{32}$`).MatchString(r.TraceID) {
		t.Errorf("TraceID %q", r.TraceID)
	}
	if r.Remote.Port() != uint16(c.LocalAddr().(*net.TCPAddr).Port) || r.Local.Port() != uint16(s.l.Addr().(*net.TCPAddr).Port) {
		t.Errorf("Remote %v Local %v; want the client's and the listener's ports", r.Remote, r.Local)
	}
	got := s.accept(5 * time.Second)
	ec, ok := got.(*Conn)
	if !ok || ec.Result != r {
		t.Fatalf("Accept returned %T; want the *Conn with the Result", got)
	}
	s.mu.Lock()
	calls := strings.Join(s.calls, ",")
	s.mu.Unlock()
	if calls != "tls,result" {
		t.Errorf("hooks ran %s; want tls,result (no handshake timeout for a plain connection)", calls)
	}
	// A read that returns bytes on an idle connection starts its header
	// timeout (idle.Arrived).
	ec.Activity.Set(idle.Idle, 1)
	c.Write([]byte("GET"))
	buf := make([]byte, 8)
	if _, err := ec.Read(buf); err != nil {
		t.Fatal(err)
	}
	if st, _ := ec.Activity.Get(); st != idle.Arrived {
		t.Errorf("activity after a read on an idle connection: %v; want arrived", st)
	}
}

// A TLS handshake in mode off (the default policy, ELBSecurityPolicy-2016-08,
// tops at TLS 1.2): one Result with the TLS state and the
// certificate chosen, the hooks in order, the connection handed to Accept.
func TestListenerTLSHandshake(t *testing.T) {
	p := newPKI(t)
	cfg, err := p.termination(t, ModeOff, RejectReset).Config()
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, cfg, 5*time.Second)
	c, err := tls.Dial("tcp", s.l.Addr().String(), p.client(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := s.result(t)
	if !r.TLS || r.Err != nil || r.Status != truststore.Success || r.State.Version != tls.VersionTLS12 || r.ServerCert == nil || !r.SNIMatched {
		t.Errorf("Result: TLS %v Err %v Status %v Version %x ServerCert %v SNIMatched %v", r.TLS, r.Err, r.Status, r.State.Version, r.ServerCert != nil, r.SNIMatched)
	}
	if r.Leaf() != nil {
		t.Error("a client without a certificate has a leaf")
	}
	got := s.accept(5 * time.Second)
	tc, ok := got.(*tls.Conn)
	if !ok || tc.NetConn().(*Conn).Result != r {
		t.Fatalf("Accept returned %T; want the *tls.Conn over the *Conn with the Result", got)
	}
	s.mu.Lock()
	calls := strings.Join(s.calls, ",")
	s.mu.Unlock()
	if calls != "tls,timeout,result" {
		t.Errorf("hooks ran %s; want tls,timeout,result", calls)
	}
}

// In verify mode a trusted client's chain is verified (Success, its leaf
// in the Result); an untrusted client's handshake fails with its ALB
// status and is never handed to Accept. With RejectReset the client sees
// a reset or EOF, no alert; with RejectAlert it reads the alert.
func TestListenerVerifyMode(t *testing.T) {
	p := newPKI(t)
	for _, rej := range []Rejection{RejectReset, RejectAlert} {
		t.Run(rej.String(), func(t *testing.T) {
			cfg, err := p.termination(t, ModeVerify, rej).Config()
			if err != nil {
				t.Fatal(err)
			}
			s := serve(t, cfg, 5*time.Second)
			ok, err := tls.Dial("tcp", s.l.Addr().String(), p.client(p.trusted))
			if err != nil {
				t.Fatal(err)
			}
			defer ok.Close()
			r := s.result(t)
			if r.Status != truststore.Success || r.Leaf() == nil || r.Leaf().Subject.CommonName != "C" {
				t.Errorf("trusted client: %v, leaf %v", r.Status, r.Leaf())
			}
			if s.accept(5*time.Second) == nil {
				t.Fatal("the verified connection was not handed to Accept")
			}

			bad, err := tls.Dial("tcp", s.l.Addr().String(), p.client(p.untrusted))
			if err == nil {
				// TLS 1.3: the client learns of the refusal on its first read.
				bad.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
				_, err = bad.Read(make([]byte, 1))
				bad.Close()
			}
			r = s.result(t)
			if r.Status != truststore.ClientCertUntrusted || r.Verdict == nil || r.Err == nil {
				t.Errorf("untrusted client: status %v verdict %v err %v", r.Status, r.Verdict, r.Err)
			}
			alert := err != nil && strings.Contains(err.Error(), "remote error")
			if alert != (rej == RejectAlert) {
				t.Errorf("client error %v: alert %v; want alert only with RejectAlert", err, alert)
			}
			if c := s.accept(300 * time.Millisecond); c != nil {
				t.Error("a refused connection was handed to Accept")
			}
		})
	}
}

// A client that never completes its handshake ends with the handshake
// timeout, as UnmappedConnectionError.
func TestListenerHandshakeTimeout(t *testing.T) {
	p := newPKI(t)
	cfg, err := p.termination(t, ModeOff, RejectReset).Config()
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, cfg, 100*time.Millisecond)
	c, err := net.Dial("tcp", s.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := s.result(t)
	if !errors.Is(r.Err, context.DeadlineExceeded) || r.Status != truststore.UnmappedConnectionError {
		t.Errorf("silent client: err %v status %v; want the deadline, UnmappedConnectionError", r.Err, r.Status)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Errorf("the timed-out connection was not closed: %v", err)
	}
}

// A Listener with no hooks serves plain connections and drops results;
// Close makes Accept return net.ErrClosed.
func TestListenerNilHooksAndClose(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(inner, Hooks{})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if r := got.(*Conn).Result; r.TLS {
		t.Error("a connection without a TLSConfig hook is TLS")
	}
	got.Close()
	l.Close()
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v; want net.ErrClosed", err)
	}
	l.Wait()
}

func TestNewTraceIDIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewTraceID()
		if seen[id] || len(id) != 36 || !strings.HasPrefix(id, "TID_") {
			t.Fatalf("trace id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
