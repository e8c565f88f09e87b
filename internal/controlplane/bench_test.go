package controlplane_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// benchEdge is a small configuration built through the API: a trust
// store, a load balancer, a target group and one verify listener with a
// fixed response, policy ELBSecurityPolicy-TLS13-1-2-2021-06.
func benchEdge(b *testing.B, yaml string) (*edge, *pkiSet, albARNs) {
	b.Helper()
	p := newPKI(b)
	ec := newEcho(b)
	e := startEdge(b, b.TempDir(), b.TempDir(), yaml)
	a := e.alb(p, ec)
	if _, err := e.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &a.listener, SslPolicy: aws.String("ELBSecurityPolicy-TLS13-1-2-2021-06"), DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200"), MessageBody: aws.String("ok")}}}}); err != nil {
		b.Fatal(err)
	}
	return e, p, a
}

// BenchmarkMutatingCall is the latency of one ELBv2 call from request to
// answer on a small configuration, the change applied (built, swapped,
// persisted) when it returns. modify-listener toggles the listener's
// AdvertiseTrustStoreCaNames (its TLS configuration is rebuilt);
// create-listener binds a new port (deleted again outside the timing).
func BenchmarkMutatingCall(b *testing.B) {
	b.Run("modify-listener", func(b *testing.B) {
		e, _, a := benchEdge(b, baseYAML)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			on := types.AdvertiseTrustStoreCaNamesEnumOff
			if i%2 == 0 {
				on = types.AdvertiseTrustStoreCaNamesEnumOn
			}
			if _, err := e.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &a.listener,
				MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &a.ts, AdvertiseTrustStoreCaNames: on}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("create-listener", func(b *testing.B) {
		e, _, a := benchEdge(b, baseYAML)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			port := freePort(b)
			b.StartTimer()
			l, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &a.lb, Protocol: types.ProtocolEnumHttps, Port: &port,
				Certificates:         []types.Certificate{{CertificateArn: aws.String(acmARN)}},
				DefaultActions:       []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &a.tg}},
				MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &a.ts}})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port))
			if err != nil {
				b.Fatalf("the new listener is not bound when create-listener returns: %v", err)
			}
			c.Close()
			if _, err := e.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.Listeners[0].ListenerArn}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}

// BenchmarkAddMillionEntryCRL is add-trust-store-revocations of a
// 1,000,000-entry CRL (about 45 MB of PEM) from the embedded S3 store:
// read, checked, copied into the state, built into the running trust
// store and persisted when the call returns. The revocation is removed
// again outside the timing.
func BenchmarkAddMillionEntryCRL(b *testing.B) {
	e, p, a := benchEdge(b, baseYAML+"quotas: {revocation_entries_per_trust_store: 2000000}\n")
	crl := p.crl(b, 1_000_000, p.revoked.Cert)
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("edge-trust"), Key: aws.String("big.crl.pem"), Body: bytes.NewReader(crl)}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(crl)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := e.elb.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: &a.ts,
			RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("edge-trust"), S3Key: aws.String("big.crl.pem")}}})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := *r.TrustStoreRevocations[0].NumberOfRevokedEntries; n != 1_000_001 {
			b.Fatalf("NumberOfRevokedEntries %d", n)
		}
		if _, _, err := get(a.port, e.devRoot(), p.revoked); err == nil {
			b.Fatal("the revoked client got through when the call returned")
		}
		if _, err := e.elb.RemoveTrustStoreRevocations(ctx, &elb.RemoveTrustStoreRevocationsInput{TrustStoreArn: &a.ts,
			RevocationIds: []int64{*r.TrustStoreRevocations[0].RevocationId}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkHandshakesDuringModifications is the full mTLS handshake rate
// of a busy verify listener (new connections, TLS 1.3, one request each,
// from parallel clients), quiet and while the API modifies the same
// listener every 50 ms (modify-listener toggling
// AdvertiseTrustStoreCaNames: a rebuild and swap each). It reports
// handshakes/s, the modifications made during the measured run and the
// handshakes that failed (the goal: none).
func BenchmarkHandshakesDuringModifications(b *testing.B) {
	for _, busy := range []bool{false, true} {
		name := "quiet"
		if busy {
			name = "modifications"
		}
		b.Run(name, func(b *testing.B) {
			e, p, a := benchEdge(b, `aws: {listen: "127.0.0.1:0"}
logs: {connection: "off", access: "off"}
`)
			cert := p.good.TLSCertificate()
			cfg := &tls.Config{RootCAs: e.devRoot(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
			addr := "127.0.0.1:" + itoa(a.port)
			var failed, mods atomic.Int64
			var firstErr atomic.Value
			stop := make(chan struct{})
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			if busy {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
						on := types.AdvertiseTrustStoreCaNamesEnumOff
						if i%2 == 0 {
							on = types.AdvertiseTrustStoreCaNamesEnumOn
						}
						if _, err := e.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &a.listener,
							MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: &a.ts, AdvertiseTrustStoreCaNames: on}}); err != nil {
							firstErr.CompareAndSwap(nil, err)
							return
						}
						mods.Add(1)
					}
				}()
			}
			b.SetParallelism(2)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := handshake(addr, cfg); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
			b.ReportMetric(float64(failed.Load()), "failed")
			if busy {
				b.ReportMetric(float64(mods.Load()), "modifications")
			}
			if err := firstErr.Load(); err != nil {
				b.Errorf("first failure: %v", err)
			}
		})
	}
}

// handshake makes one connection, one request, and checks the answer.
func handshake(addr string, cfg *tls.Config) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "HTTP/1.1 200") {
		return fmt.Errorf("answer %q", line)
	}
	return nil
}
