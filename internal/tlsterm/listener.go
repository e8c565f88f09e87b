package tlsterm

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"edge/internal/idle"
	"edge/internal/truststore"
)

// Result describes one connection attempt: everything the connection log
// needs, and what the HTTP layer needs to link requests to it.
type Result struct {
	// TraceID is the conn_trace_id, "TID_" + 32 lowercase hex.
	TraceID string
	// Start is when the connection was accepted, End when its handshake
	// finished or failed (equal to Start on plain HTTP listeners).
	Start, End time.Time
	Remote     netip.AddrPort
	Local      netip.AddrPort
	// TLS is false on plain HTTP listeners.
	TLS bool
	// State is the TLS state reached, complete or not.
	State tls.ConnectionState
	// Status is the tls_verify_status; StatusNone on HTTP listeners.
	Status truststore.Status
	// Verdict holds edge's classification when client verification
	// failed; its Detail says why.
	Verdict *truststore.Verdict
	// Err is the handshake error, nil on success.
	Err error
	// ServerCert is the certificate edge presented; SNIMatched tells
	// whether the client's SNI chose it (false: the default).
	ServerCert *tls.Certificate
	SNIMatched bool
	// Value is the owner's own state for the connection, set by
	// Hooks.TLSConfig before the handshake (edge keeps there the
	// configuration the connection started with). Nil if never set.
	Value any
}

// Leaf returns the client's leaf certificate, or nil.
func (r *Result) Leaf() *x509.Certificate { return leafOf(&r.State) }

// Conn is the raw connection under a listener's tls.Conn; its Result
// identifies the connection to the HTTP layer (tls.Conn.NetConn()).
type Conn struct {
	net.Conn
	Result *Result
	// Activity is kept by the HTTP server serving the connection, for
	// its idle and header timeouts (package idle).
	Activity idle.Activity

	// A verify-mode handshake holds what crypto/tls writes once it has
	// asked for the client's certificate (see Write); only the handshake
	// goroutine touches these.
	hold      holdState
	rejection Rejection
	held      []byte
}

// holdState follows a verify-mode handshake: crypto/tls picks the server
// certificate (armed), writes its flight (flight), then reads the client's
// certificate flight (holding). From then on it writes only the alert
// ending a refused handshake or, on TLS 1.2, its final flight on success.
type holdState uint8

const (
	holdOff holdState = iota
	holdArmed
	holdFlight
	holdHolding
)

func (c *Conn) armRefusal(r Rejection) {
	c.hold, c.rejection = holdArmed, r
}

// Write holds the handshake's last writes in verify mode (see holdState),
// so that a refusal can end without the alert crypto/tls always sends.
func (c *Conn) Write(b []byte) (int, error) {
	switch c.hold {
	case holdOff:
	case holdArmed:
		c.hold = holdFlight
	case holdHolding:
		c.held = append(c.held, b...)
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// endHold stops holding and returns what was held.
func (c *Conn) endHold() []byte {
	held := c.held
	c.hold, c.held = holdOff, nil
	return held
}

// Listener accepts TCP connections, runs each TLS handshake itself, reports
// one Result per connection attempt (Hooks.OnResult), and hands the
// connections that completed their handshake to Accept (for http.Server).
type Listener struct {
	inner net.Listener
	hooks Hooks

	ready     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Hooks are how a Listener's owner takes part in each connection, in the
// order they run for one connection. Every hook runs on the connection's
// own goroutine (one per accepted connection, started by the accept loop),
// so hooks of different connections run concurrently, and a slow hook
// delays only its connection. Any hook may be nil.
type Hooks struct {
	// TLSConfig returns the configuration for a new connection. It runs
	// once per accepted connection, first, before anything is read from
	// it: a configuration swapped meanwhile (a reload) applies to new
	// connections only. It may set c.Result.Value, the owner's state for
	// the connection (edge keeps there the configuration the connection
	// started with). A nil hook, or a nil result, serves the connection
	// as plain HTTP: no handshake, Result.TLS false, Result.End = Start.
	TLSConfig func(c *Conn) *tls.Config

	// HandshakeTimeout bounds the TLS handshake. It is asked once per TLS
	// connection, just before its handshake, so a reload applies to the
	// next connection. A nil hook, or a result <= 0, means
	// DefaultHandshakeTimeout. A handshake past it ends with
	// context.DeadlineExceeded (Result.Status UnmappedConnectionError).
	HandshakeTimeout func() time.Duration

	// OnResult receives the connection attempt's Result once the
	// handshake has ended (at once for plain HTTP): exactly once per
	// accepted connection, failed and refused handshakes included, and
	// before the connection is handed to Accept or closed, so the
	// connection-log line is written before the first request's access
	// line. The Listener does not change r afterwards; r is also
	// c.Result of the Conn that Accept returns (through tls.Conn.NetConn
	// on TLS connections). A nil hook drops results.
	OnResult func(r *Result)
}

// DefaultHandshakeTimeout bounds a client's TLS handshake.
const DefaultHandshakeTimeout = 10 * time.Second

// NewListener starts accepting on inner with the owner's hooks. Close
// stops it; Wait waits for the accept loop and every handshake.
func NewListener(inner net.Listener, hooks Hooks) *Listener {
	l := &Listener{
		inner: inner,
		hooks: hooks,
		ready: make(chan net.Conn),
		done:  make(chan struct{}),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		raw, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or a transient network error:
			// back off like net/http.Server instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		l.wg.Add(1)
		go l.handle(raw)
	}
}

func (l *Listener) handle(raw net.Conn) {
	defer l.wg.Done()
	r := &Result{TraceID: NewTraceID(), Start: time.Now(), Status: truststore.StatusNone}
	r.Remote = addrPort(raw.RemoteAddr())
	r.Local = addrPort(raw.LocalAddr())
	c := &Conn{Conn: raw, Result: r}
	var out net.Conn = c
	refused := false
	var cfg *tls.Config
	if l.hooks.TLSConfig != nil {
		cfg = l.hooks.TLSConfig(c)
	}
	if cfg != nil {
		r.TLS = true
		tc := tls.Server(c, cfg)
		var d time.Duration
		if l.hooks.HandshakeTimeout != nil {
			d = l.hooks.HandshakeTimeout()
		}
		if d <= 0 {
			d = DefaultHandshakeTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), d)
		r.Err = tc.HandshakeContext(ctx)
		cancel()
		switch held := c.endHold(); {
		case len(held) == 0:
		case r.Err == nil:
			// TLS 1.2: the final flight, Finished; an error here means
			// the client left.
			_, r.Err = raw.Write(held)
		default:
			// The alert of a refusal: sent only on request.
			refused = true
			if c.rejection == RejectAlert {
				raw.Write(held)
			}
		}
		r.End = time.Now()
		r.State = tc.ConnectionState()
		r.Status = Classify(r.Err)
		if ve, ok := errors.AsType[*VerdictError](r.Err); ok {
			r.Verdict = &ve.Verdict
		}
		out = tc
	} else {
		r.End = r.Start
	}
	if l.hooks.OnResult != nil {
		l.hooks.OnResult(r)
	}
	if refused {
		refuse(raw, c.rejection)
		return
	}
	if r.Err != nil {
		out.Close()
		return
	}
	select {
	case l.ready <- out:
	case <-l.done:
		out.Close()
	}
}

// After a refusal edge reads what the client still sends until it has been
// silent for rejectQuiet, closes its side or rejectDrain passes: a client
// writes its request right after its last handshake flight (TLS 1.3, TLS
// 1.2 False Start), so the reset or the alert then reaches it while it
// waits for the answer, every time, instead of racing its writes.
const (
	rejectQuiet = 100 * time.Millisecond
	rejectDrain = 1 * time.Second
	// rejectDrainBytes bounds what is read from a refused client.
	rejectDrainBytes = 256 << 10
)

// refuse ends a refused handshake as r says; its alert, if any, has been
// written.
func refuse(raw net.Conn, r Rejection) {
	tcp, _ := raw.(*net.TCPConn)
	if r == RejectAlert && tcp != nil {
		tcp.CloseWrite() // the alert, then FIN
	}
	drain(raw)
	if r == RejectReset && tcp != nil {
		tcp.SetLinger(0) // close sends RST
	}
	raw.Close()
}

// drain reads and discards until the peer is silent for rejectQuiet, has
// closed, or rejectDrain or rejectDrainBytes is reached.
func drain(c net.Conn) {
	end := time.Now().Add(rejectDrain)
	buf := make([]byte, 16<<10)
	for n := 0; n < rejectDrainBytes; {
		d := time.Now().Add(rejectQuiet)
		if d.After(end) {
			d = end
		}
		c.SetReadDeadline(d)
		k, err := c.Read(buf)
		if err != nil {
			return
		}
		n += k
	}
}

// Accept returns the next connection whose handshake succeeded.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting. Handshakes in progress finish and are reported;
// their connections are then closed.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Wait blocks until the accept loop and every handshake have finished.
func (l *Listener) Wait() { l.wg.Wait() }

// Addr is the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// NewTraceID returns a conn_trace_id: "TID_" and 32 lowercase hex digits.
func NewTraceID() string {
	var b [16]byte
	rand.Read(b[:])
	var out [4 + 32]byte
	copy(out[:], "TID_")
	hex.Encode(out[4:], b[:])
	return string(out[:])
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// Read marks an idle HTTP/1 connection whose next request starts
// arriving, so its header timeout starts then. During a verify-mode
// handshake, the first read after the server's flight starts holding
// writes (see holdState).
func (c *Conn) Read(b []byte) (int, error) {
	if c.hold == holdFlight {
		c.hold = holdHolding
	}
	n, err := c.Conn.Read(b)
	if n > 0 && c.Result.State.NegotiatedProtocol != "h2" {
		// HTTP/2 reads (a PING, a new stream) are not a request head:
		// its streams are watched one by one.
		c.Activity.Arrive()
	}
	return n, err
}
