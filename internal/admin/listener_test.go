package admin

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"edge/internal/config"
	"edge/internal/server"
)

// startAdmin runs an edge with one HTTP listener and the admin listener
// with lim.
func startAdmin(t *testing.T, lim limits) *Listener {
	t.Helper()
	cfg, err := config.Parse([]byte(`admin: {listen: "127.0.0.1:0"}
logs: {connection: "off", access: "off"}
listeners:
  - {port: 0, protocol: HTTP, default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]}
`), t.TempDir()+"/edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := server.Build(cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Start(snap, io.Discard, io.Discard, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := start(srv, log, lim, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Shutdown(context.Background())
		srv.Shutdown(context.Background())
	})
	return a
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.ReadAll(c)
	ne, ok := err.(net.Error)
	return !(ok && ne.Timeout())
}

// The admin listener closes idle keep-alive connections and connections
// whose headers do not arrive in time.
func TestAdminTimeouts(t *testing.T) {
	lim := defaultLimits
	lim.idle, lim.readHeader = 300*time.Millisecond, 300*time.Millisecond
	a := startAdmin(t, lim)

	idle, err := net.Dial("tcp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
	buf := make([]byte, 512)
	if n, _ := idle.Read(buf); !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Fatalf("healthz: %q", buf[:n])
	}
	if !closedWithin(idle, 3*time.Second) {
		t.Error("an idle keep-alive admin connection was not closed by the idle timeout")
	}

	slow, err := net.Dial("tcp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /healthz HTTP/1.1\r\nHo")
	if !closedWithin(slow, 3*time.Second) {
		t.Error("an admin connection stalled in its headers was not closed by the header timeout")
	}
}

// At the connection cap, a new connection evicts the longest-idle one;
// the newest clients are served.
func TestAdminConnectionCap(t *testing.T) {
	lim := defaultLimits
	lim.maxConns = 4
	a := startAdmin(t, lim)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 6; i++ {
		c, err := net.Dial("tcp", a.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
		buf := make([]byte, 512)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, _ := c.Read(buf); !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
			t.Fatalf("connection %d: %q", i, buf[:n])
		}
		// net/http marks the connection idle after the client may
		// already have read the response: wait for it, so that "the
		// longest idle" is the oldest connection.
		for deadline := time.Now().Add(3 * time.Second); a.ln.busy() > 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	for i, c := range conns {
		closed := closedWithin(c, 200*time.Millisecond)
		if want := i < 2; closed != want {
			t.Errorf("connection %d closed=%v; want %v (the two oldest evicted)", i, closed, want)
		}
	}
}
