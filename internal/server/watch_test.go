package server_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"edge/internal/config"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/testutil"
)

// A bundle rewritten in place in chunks, with pauses longer than the
// watcher's poll, is never loaded half-written: a client whose CA comes
// in the last chunk is served throughout.
func TestWatchWaitsForSlowInPlaceWrite(t *testing.T) {
	seed := testutil.NewSeed(t)
	full := pki.CertPEM(seed.A.Cert, seed.B.Cert, seed.F.Cert)
	testutil.WriteFile(t, seed.BundlePath, full)
	e := startEdge(t, seed, listenerYAML{mtls: verifyMTLS})
	e.srv.SetLoader(func() (*config.Config, error) { return config.Load(e.cfgPath) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.srv.Watch(ctx, server.DefaultWatchInterval, server.DefaultWatchDebounce)

	h := e.clientTLS(seed.H, nil) // trusted through F, the bundle's last certificate
	if !handshake(e.addr, h) {
		t.Fatal("H refused before the rewrite")
	}
	var served, refused atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if handshake(e.addr, h) {
				served.Add(1)
			} else {
				refused.Add(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// The same bundle, written in place in three chunks 700 ms apart: the
	// file is a valid bundle of A and B after the second chunk.
	ab := len(pki.CertPEM(seed.A.Cert, seed.B.Cert))
	f, err := os.OpenFile(seed.BundlePath, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range [][]byte{full[:ab/2], full[ab/2 : ab], full[ab:]} {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		time.Sleep(700 * time.Millisecond)
	}
	f.Close()
	time.Sleep(2 * time.Second) // the complete file is reloaded meanwhile
	close(stop)
	wg.Wait()
	t.Logf("H served %d times, refused %d times during the slow rewrite", served.Load(), refused.Load())
	if refused.Load() != 0 {
		t.Errorf("a client of the bundle's last CA was refused %d times while the bundle was being rewritten", refused.Load())
	}
}
