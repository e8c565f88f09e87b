package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/config"
	"edge/internal/testutil"
)

// countingTarget is a target that counts the connections edge holds open
// to it.
type countingTarget struct {
	*httptest.Server
	open, total atomic.Int64
}

func newCountingTarget(t *testing.T) *countingTarget {
	ct := &countingTarget{}
	ct.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from target")
	}))
	ct.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			ct.open.Add(1)
			ct.total.Add(1)
		case http.StateClosed, http.StateHijacked:
			ct.open.Add(-1)
		}
	}
	ct.Start()
	t.Cleanup(ct.Close)
	return ct
}

// 200 reloads while keep-alive clients come and go: edge holds no more
// connections to the target afterwards than the clients needed at once.
// Reloads that change nothing a target connection depends on keep the
// pool; reloads that change idle_timeout_seconds start a new pool and
// close the old one's connections once its last request ends.
func TestReloadsDoNotLeakTargetConnections(t *testing.T) {
	seed := testutil.NewSeed(t)
	target := newCountingTarget(t)
	top := func(idle int) string {
		return fmt.Sprintf("idle_timeout_seconds: %d\ntarget_groups:\n%s", idle, tgYAML("app", strings.TrimPrefix(target.URL, "http://")))
	}
	e := startEdge(t, seed, listenerYAML{top: top(60), defaultAction: "{type: forward, target_group: app}"})
	e.srv.SetLoader(func() (*config.Config, error) { return config.Load(e.cfgPath) })
	b, err := os.ReadFile(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(b)

	const clients = 4
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tr *http.Transport
			defer func() { tr.CloseIdleConnections() }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%5 == 0 { // a new client connection every 5 requests
					if tr != nil {
						tr.CloseIdleConnections()
					}
					tr = &http.Transport{TLSClientConfig: e.clientTLS(nil, nil)}
				}
				resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + e.addr + "/")
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && string(b) == "from target" {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	var firstHalf int64
	for i := 0; i < 200; i++ {
		if i == 100 {
			firstHalf = target.total.Load()
		}
		idle := 60
		if i >= 100 && i%2 == 1 { // the second half alternates the pool's settings
			idle = 61
		}
		testutil.WriteFile(t, e.cfgPath, []byte(strings.Replace(yaml, "idle_timeout_seconds: 60", fmt.Sprintf("idle_timeout_seconds: %d", idle), 1)))
		if err := e.srv.ReloadFromSource(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	// Connections a finished request hands back reach the idle pool
	// asynchronously: give them a moment.
	deadline := time.Now().Add(3 * time.Second)
	for target.open.Load() > clients && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d requests forwarded (%d failed) during 200 reloads; edge opened %d target connections (%d during the 100 reloads that kept the settings), %d still open",
		ok.Load(), failed.Load(), target.total.Load(), firstHalf, target.open.Load())
	if firstHalf > 2*clients {
		t.Errorf("edge opened %d target connections during 100 reloads that changed no target setting; want the pool kept (at most %d)", firstHalf, 2*clients)
	}
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during reloads", failed.Load())
	}
	if n := target.open.Load(); n > clients {
		t.Errorf("%d connections to the target still open after the clients left; want at most %d (one per concurrent client)", n, clients)
	}
}
