package server_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/admin"
	"edge/internal/testutil"
)

// Reload storm: 100 reloads add, move and remove listeners (fixed ports and
// port 0, HTTPS and HTTP, one inserted in front of the port-0 verify
// listener) while clients load every listener and the admin API is read in
// parallel. edge never crashes; the two listeners no reload changes refuse
// no client and always answer as themselves; a connection to a changing
// listener either fails to connect (removed) or is answered by the
// listener it reached; every admin read succeeds.
func TestReliabilityReloadStorm(t *testing.T) {
	seed := testutil.NewSeed(t)
	stablePort := freePort(t)
	stable := []lst{{port: stablePort, mode: "verify", body: "stable-0"}, {mode: "verify", body: "stable-1"}}
	m := startMulti(t, seed, `admin: {listen: "127.0.0.1:0"}`+"\n", stable...)
	adm, err := admin.Start(m.srv, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Shutdown(t.Context())
	stableAddrs := []string{m.srv.Addrs()[0].String(), m.srv.Addrs()[1].String()}
	good := m.clientTLS(seed.C, nil)

	// churn lists every address a changing listener has used; served
	// the bodies of the listeners each has served (the system may give a
	// freed port to a later port-0 listener).
	// live are the changing listeners of the current configuration; tls
	// tells which protocol an address last served.
	var mu sync.Mutex
	var churn, live []string
	served := map[string]map[string]bool{}
	useTLS := map[string]bool{}
	var stableOK, stableBad, churnOK, churnWrong, churnRefused, adminOK, adminBad atomic.Int64
	var examples sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w < 2 { // the unchanged listeners
					if code, body := fetch(stableAddrs[w], good); code == 200 && body == stable[w].body {
						stableOK.Add(1)
					} else {
						stableBad.Add(1)
						examples.Store("stable", fmt.Sprintf("%s: %d %q", stableAddrs[w], code, body))
					}
					continue
				}
				mu.Lock()
				if len(churn) == 0 {
					mu.Unlock()
					time.Sleep(time.Millisecond)
					continue
				}
				addr := churn[(i*7+w)%len(churn)]
				if i%4 != 0 && len(live) > 0 { // mostly the current listeners
					addr = live[(i*7+w)%len(live)]
				}
				var cfg *tls.Config // HTTP
				if useTLS[addr] {
					cfg = good
				}
				mu.Unlock()
				code, body := fetch(addr, cfg)
				mu.Lock()
				known := served[addr][body]
				mu.Unlock()
				switch {
				case code == 0:
					churnRefused.Add(1) // removed, closed by its removal, or the other protocol
				case code == 200 && known:
					churnOK.Add(1)
				default:
					churnWrong.Add(1)
					examples.Store("churn", fmt.Sprintf("%s: %d %q", addr, code, body))
				}
			}
		}(w)
	}
	for w := 0; w < 2; w++ { // admin readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := []string{"listeners", "metrics", "trust-stores", "connections/recent", "readyz"}[i%5]
				resp, err := http.Get(adm.URL() + path)
				if err != nil {
					adminBad.Add(1)
					examples.Store("admin", err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					adminOK.Add(1)
				} else {
					adminBad.Add(1)
					examples.Store("admin", fmt.Sprintf("%s: %d", path, resp.StatusCode))
				}
			}
		}()
	}

	const reloads = 100
	for i := 0; i < reloads; i++ {
		// Bodies name the listener kind; a churn listener's body says
		// which protocol to speak to it.
		var ls []lst
		if i%4 == 1 { // an off listener in front of the port-0 verify one
			ls = append(ls, stable[0], lst{mode: "off", body: "https-front"}, stable[1])
		} else {
			ls = append(ls, stable...)
		}
		switch i % 3 {
		case 0:
			ls = append(ls, lst{protocol: "HTTP", body: "http-a"})
		case 1:
			ls = append(ls, lst{port: freePort(t), mode: "passthrough", body: "https-moved"}, lst{protocol: "HTTP", body: "http-a"})
		}
		m.reload(t, seed, `admin: {listen: "127.0.0.1:0"}`+"\n", ls...)
		addrs := m.srv.Addrs()
		mu.Lock()
		live = nil
		for j, l := range ls {
			switch l.body {
			case stable[0].body, stable[1].body:
				if k := map[string]int{stable[0].body: 0, stable[1].body: 1}[l.body]; addrs[j].String() != stableAddrs[k] {
					t.Errorf("reload %d: %s moved from %s to %s", i, l.body, stableAddrs[k], addrs[j])
				}
				continue
			}
			a := addrs[j].String()
			if served[a] == nil {
				served[a] = map[string]bool{}
				churn = append(churn, a)
			}
			served[a][l.body] = true
			useTLS[a] = l.protocol != "HTTP"
			live = append(live, a)
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reloads: unchanged listeners %d served / %d failed; changing listeners %d served, %d refused (removed), %d wrong; admin reads %d ok / %d failed",
		reloads, stableOK.Load(), stableBad.Load(), churnOK.Load(), churnRefused.Load(), churnWrong.Load(), adminOK.Load(), adminBad.Load())
	examples.Range(func(k, v any) bool { t.Logf("e.g. %s: %s", k, v); return true })
	if stableBad.Load() != 0 {
		t.Errorf("%d requests to listeners no reload changed failed", stableBad.Load())
	}
	if churnWrong.Load() != 0 {
		t.Errorf("%d connections were answered by a listener other than the one they reached", churnWrong.Load())
	}
	if adminBad.Load() != 0 {
		t.Errorf("%d admin reads failed during the reloads", adminBad.Load())
	}
	if stableOK.Load() == 0 || churnOK.Load() == 0 || adminOK.Load() == 0 {
		t.Error("a load loop made no request")
	}
}

// fetch makes one request on a new connection (TLS when cfg is not nil):
// the status and body, or 0 when the connection or the handshake failed.
func fetch(addr string, cfg *tls.Config) (int, string) {
	var c net.Conn
	var err error
	d := &net.Dialer{Timeout: 5 * time.Second}
	if cfg == nil {
		c, err = d.Dial("tcp", addr)
	} else {
		c, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	}
	if err != nil {
		return 0, ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	var code int
	fmt.Sscanf(string(b), "HTTP/1.1 %d", &code)
	_, body, _ := strings.Cut(string(b), "\r\n\r\n")
	return code, body
}

// Admin connection flood: 400 idle keep-alive admin connections and 100
// stalled in their headers, while the data plane is loaded: no data-plane
// request fails, the admin listener holds at most admin.MaxConns of the
// flood, and a new admin client is still answered.
func TestReliabilityAdminFlood(t *testing.T) {
	seed := testutil.NewSeed(t)
	m := startMulti(t, seed, `admin: {listen: "127.0.0.1:0"}`+"\n", lst{mode: "verify", body: "data"})
	adm, err := admin.Start(m.srv, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Shutdown(t.Context())
	adminAddr := adm.Addr().String()
	good := m.clientTLS(seed.C, nil)

	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, body := fetch(m.addr, good); code == 200 && body == "data" {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for i := 0; i < 500; i++ {
		c, err := net.DialTimeout("tcp", adminAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("admin connection %d: %v", i, err)
		}
		flood = append(flood, c)
		if i%5 == 4 {
			io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: ed") // stalled in its headers
		} else {
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n") // then idle
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, c := range flood {
		c.SetReadDeadline(deadline)
		c.Read(make([]byte, 512))
	}
	open := 0
	for _, c := range flood {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); isTimeout(err) {
			open++
		}
	}
	resp, err := http.Get(adm.URL() + "healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("a new admin client during the flood: %v", err)
	} else {
		resp.Body.Close()
	}
	close(stop)
	wg.Wait()
	t.Logf("admin flood of 500: %d still open; data plane %d served, %d failed meanwhile", open, ok.Load(), failed.Load())
	if open > admin.MaxConns {
		t.Errorf("%d flood connections held open; want at most %d", open, admin.MaxConns)
	}
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Errorf("data plane during the admin flood: %d served, %d failed", ok.Load(), failed.Load())
	}
}
