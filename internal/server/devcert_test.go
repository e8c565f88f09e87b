package server

import (
	"net"
	"path/filepath"
	"testing"

	"edge/internal/config"
)

// A listener without certificates bound to every interface (the quick
// start's --address 0.0.0.0, the Docker image) gets a dev certificate that
// names the machine's addresses, so that clients reaching it from another
// machine or container can verify it.
func TestDevCertificateNamesMachineAddresses(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(`logs: {connection: "off", access: "off"}
listeners:
  - port: 0
    address: 0.0.0.0
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200"}}]
`), filepath.Join(dir, "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Build(cfg, Options{DevPKIDir: filepath.Join(dir, ".edge")})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	leaf := snap.Listeners[0].Term.Certificates.All()[0].Leaf
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsMulticast() {
			continue
		}
		if err := leaf.VerifyHostname(n.IP.String()); err != nil {
			t.Errorf("the dev certificate of a 0.0.0.0 listener does not cover %s: %v", n.IP, err)
		}
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
}
