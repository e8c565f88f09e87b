package apigateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"edge/internal/awsapi"
	"edge/internal/objects"
	"edge/internal/pki"
)

// DemoOptions adjust RunDemo.
type DemoOptions struct {
	// Objects is the S3 store the truststore is uploaded to; it must also
	// implement Put. nil: an in-memory versioned bucket.
	Objects DemoObjects
	// Curl runs the curl commands too when curl is installed. Default true
	// through RunDemo.
	Curl bool
	// Row, when set, receives one DemoRow per request the walkthrough
	// checks, for a summary table.
	Row func(DemoRow)
}

// DemoRow is one checked request of the walkthrough.
type DemoRow struct {
	// Step says what the request shows ("with the client certificate").
	Step string
	// Client is the certificate's subject, or "none".
	Client string
	// Expected is what API Gateway answers; Got what edge answered
	// ("HTTP 200", "handshake failed").
	Expected, Got string
	// OK reports whether Got is what was expected.
	OK bool
}

// DemoObjects is an objects.Source the demo can upload to.
type DemoObjects interface {
	objects.Source
	// Put stores a new version of bucket/key and returns its version id.
	Put(ctx context.Context, bucket, key string, data []byte) (string, error)
}

// RunDemo replays the API Gateway mTLS walkthrough offline, printing each
// step to w and writing its files into dir: a root CA and an intermediate,
// a server certificate with its chain ("imported into ACM"), a truststore
// uploaded to a versioned bucket, a REST API proxying to a local target,
// a REGIONAL domain with mutual TLS (TLS_1_2, truststoreVersion pinned) and
// the default execute-api endpoint disabled; then requests with and
// without the client certificate, a new truststore version that changes
// nothing until update-domain-name, and the 403 after it. It returns an
// error when a step does not behave as API Gateway does.
func RunDemo(ctx context.Context, w io.Writer, dir string) error {
	return RunDemoWith(ctx, w, dir, DemoOptions{Curl: true})
}

// RunDemoWith is RunDemo with options.
func RunDemoWith(ctx context.Context, w io.Writer, dir string, o DemoOptions) error {
	d := &demo{w: w, dir: dir, ctx: ctx, row: o.Row}
	if d.row == nil {
		d.row = func(DemoRow) {}
	}
	if o.Objects == nil {
		o.Objects = newMemObjects()
	}
	d.s3 = o.Objects
	defer d.close()
	if err := d.run(o); err != nil {
		fmt.Fprintf(w, "\nFAILED: %v\n", err)
		return err
	}
	fmt.Fprintln(w, "\nThe walkthrough behaved as on API Gateway.")
	return nil
}

type demo struct {
	row     func(DemoRow)
	w       io.Writer
	dir     string
	ctx     context.Context
	s3      DemoObjects
	closers []func()
	ep      string
	addr    string
	exec    *demoSink
	srv     *Server
}

func (d *demo) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

func (d *demo) step(format string, args ...any) {
	fmt.Fprintf(d.w, "\n== "+format+"\n", args...)
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.w, "   "+format+"\n", args...) }

// call sends one REST-JSON request to the control plane, printing the
// equivalent aws CLI command.
func (d *demo) call(cli, method, path string, body any, out any) error {
	fmt.Fprintf(d.w, "$ aws apigateway %s\n", cli)
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(d.ctx, method, d.ep+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=demo/20261130/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("aws apigateway %s: %d %s %s", cli, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type demoSink struct {
	mu    sync.Mutex
	w     io.Writer
	lines []string
}

func (s *demoSink) Write(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, string(line))
	if s.w != nil {
		fmt.Fprintf(s.w, "   [execution log] %s", line)
	}
}
func (s *demoSink) Close() error { return nil }

// writePEM writes a demo file: certificates 0644, a private key 0600
// (also when a kept directory already holds the file).
func (d *demo) writePEM(name string, data []byte, private bool) (string, error) {
	p := filepath.Join(d.dir, name)
	mode := os.FileMode(0o644)
	if private {
		mode = 0o600
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		return "", err
	}
	return p, os.Chmod(p, mode)
}

func (d *demo) run(o DemoOptions) error {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	const domain = "api.example.test"
	const certARN = "arn:aws:acm:us-east-1:123456789012:certificate/edge-demo"

	d.step("1. A private CA: root, intermediate, server certificate with its chain, client certificate (files in %s)", d.dir)
	org := []string{"edge demo"}
	root, err := pki.NewRoot(pki.Options{Subject: pkix.Name{CommonName: "Demo Root CA", Organization: org}})
	if err != nil {
		return err
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "Demo Intermediate CA", Organization: org}})
	if err != nil {
		return err
	}
	server, err := inter.IssueServer(pki.Options{DNSNames: []string{domain}})
	if err != nil {
		return err
	}
	client, err := inter.IssueClient(pki.Options{Subject: pkix.Name{CommonName: "demo client", Organization: org}})
	if err != nil {
		return err
	}
	key, _ := pki.KeyPEM(client.Key)
	truststore := pki.CertPEM(root.Cert, inter.Cert)
	var rootFile, clientFile, clientKey string
	for _, f := range []struct {
		p       *string
		name    string
		data    []byte
		private bool
	}{
		{&rootFile, "root.pem", pki.CertPEM(root.Cert), false},
		{&clientFile, "client.pem", pki.CertPEM(client.ChainWithoutRoot()...), false},
		{&clientKey, "client.key", key, true},
		{nil, "truststore.pem", truststore, false},
	} {
		p, err := d.writePEM(f.name, f.data, f.private)
		if err != nil {
			return err
		}
		if f.p != nil {
			*f.p = p
		}
	}
	d.say("root.pem, client.pem, client.key, truststore.pem (root + intermediate: API Gateway needs the whole chain)")
	serverCert := server.TLSCertificate()
	d.say("server certificate for %s imported as %s", domain, certARN)

	d.step("2. The truststore goes to a versioned bucket")
	v1, err := d.s3.Put(d.ctx, "demo-trust", "truststore.pem", truststore)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "$ aws s3 cp truststore.pem s3://demo-trust/truststore.pem   # VersionId %s\n", v1)

	d.step("3. edge: the control plane on an AWS endpoint, the data plane on one HTTPS listener")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "clientSubject": r.Header.Get("X-Client-Subject"), "clientSerial": r.Header.Get("X-Client-Serial")})
	}))
	d.closers = append(d.closers, target.Close)
	d.exec = &demoSink{w: d.w}
	d.srv, err = NewServer(ServerOptions{DevCA: inter, ExecutionLog: d.exec,
		CertificateByARN: func(arn string) *tls.Certificate {
			if arn == certARN {
				return &serverCert
			}
			return nil
		}})
	if err != nil {
		return err
	}
	if err := d.srv.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	d.closers = append(d.closers, func() { d.srv.Close() })
	d.addr = d.srv.Addr().String()
	store, err := OpenEphemeral()
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { store.Close() })
	svc, err := New(Options{Objects: d.s3, Applier: d.srv, Store: store})
	if err != nil {
		return err
	}
	ep := httptest.NewServer(awsapi.New(awsapi.Services{APIGateway: svc.Handler()}, awsapi.Options{}))
	d.closers = append(d.closers, ep.Close)
	d.ep = ep.URL
	d.say("AWS endpoint %s, API Gateway listener %s, target %s", ep.URL, d.addr, target.URL)

	d.step("4. A REST API proxying to the target, default endpoint disabled")
	var api restAPIOut
	if err := d.call("create-rest-api --name pets --endpoint-configuration types=REGIONAL --disable-execute-api-endpoint", "POST", "/restapis",
		map[string]any{"name": "pets", "endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}, "disableExecuteApiEndpoint": true}, &api); err != nil {
		return err
	}
	var res resourceOut
	if err := d.call("create-resource --rest-api-id "+api.ID+" --parent-id "+api.RootResourceID+" --path-part '{proxy+}'", "POST",
		"/restapis/"+api.ID+"/resources/"+api.RootResourceID, map[string]any{"pathPart": "{proxy+}"}, &res); err != nil {
		return err
	}
	mpath := "/restapis/" + api.ID + "/resources/" + res.ID + "/methods/ANY"
	if err := d.call("put-method --rest-api-id "+api.ID+" --resource-id "+res.ID+" --http-method ANY --authorization-type NONE --request-parameters method.request.path.proxy=true",
		"PUT", mpath, map[string]any{"authorizationType": "NONE", "requestParameters": map[string]bool{"method.request.path.proxy": true}}, nil); err != nil {
		return err
	}
	params := map[string]string{
		"integration.request.path.proxy":              "method.request.path.proxy",
		"integration.request.header.X-Client-Subject": "context.identity.clientCert.subjectDN",
		"integration.request.header.X-Client-Serial":  "context.identity.clientCert.serialNumber",
	}
	pj, _ := json.Marshal(params)
	if err := d.call("put-integration --rest-api-id "+api.ID+" --resource-id "+res.ID+" --http-method ANY --type HTTP_PROXY --integration-http-method ANY --uri '"+target.URL+"/{proxy}' --request-parameters '"+string(pj)+"'",
		"PUT", mpath+"/integration", map[string]any{"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": target.URL + "/{proxy}", "requestParameters": params}, nil); err != nil {
		return err
	}
	if err := d.call("create-deployment --rest-api-id "+api.ID+" --stage-name prod", "POST", "/restapis/"+api.ID+"/deployments", map[string]any{"stageName": "prod"}, nil); err != nil {
		return err
	}

	d.step("5. The custom domain with mutual TLS, pinned to truststore version %s", v1)
	var dn domainNameOut
	if err := d.call("create-domain-name --domain-name "+domain+" --regional-certificate-arn "+certARN+" --endpoint-configuration types=REGIONAL --security-policy TLS_1_2 --mutual-tls-authentication truststoreUri=s3://demo-trust/truststore.pem,truststoreVersion="+v1,
		"POST", "/domainnames", map[string]any{"domainName": domain, "regionalCertificateArn": certARN, "endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}},
			"securityPolicy": "TLS_1_2", "mutualTlsAuthentication": map[string]string{"truststoreUri": "s3://demo-trust/truststore.pem", "truststoreVersion": v1}}, &dn); err != nil {
		return err
	}
	d.say("domainNameStatus %s, regionalDomainName %s", dn.DomainNameStatus, dn.RegionalDomainName)
	if err := d.call("create-base-path-mapping --domain-name "+domain+" --rest-api-id "+api.ID+" --stage prod", "POST", "/domainnames/"+domain+"/basepathmappings",
		map[string]any{"restApiId": api.ID, "stage": "prod"}, nil); err != nil {
		return err
	}

	_, port, _ := net.SplitHostPort(d.addr)
	url := "https://" + domain + ":" + port + "/pets"
	curlBase := fmt.Sprintf("curl --resolve %s:%s:127.0.0.1 --cacert %s", domain, port, rootFile)

	d.step("6. With the client certificate: 200, and the target sees the certificate")
	status, body, err := d.get(curlBase+" --key "+clientKey+" --cert "+clientFile+" "+url, domain, url, client)
	d.show(status, body, err)
	d.row(DemoRow{"with the client certificate", "CN=demo client", "HTTP 200, subject at the target", got(status, err), status == 200 && strings.Contains(body, "CN=demo client,O=edge demo")})
	if status != 200 || !strings.Contains(body, "CN=demo client,O=edge demo") {
		return fmt.Errorf("the trusted client got %d %s %v", status, body, err)
	}
	d.curl(o, curlBase+" --key "+clientKey+" --cert "+clientFile+" "+url)

	d.step("7. Without a client certificate: the handshake fails (no TLS alert)")
	status, body, err = d.get(curlBase+" --tls-max 1.2 "+url, domain, url, nil)
	d.show(status, body, err)
	d.row(DemoRow{"without a client certificate", "none", "handshake failed", got(status, err), err != nil})
	if err == nil {
		return fmt.Errorf("a request without a certificate got %d", status)
	}
	d.curl(o, curlBase+" --tls-max 1.2 "+url)

	d.step("8. The default endpoint is disabled: it cannot bypass mutual TLS")
	host := api.ID + ".execute-api.us-east-1.amazonaws.com"
	eurl := "https://" + host + ":" + port + "/prod/pets"
	status, body, err = d.get(fmt.Sprintf("curl -k --resolve %s:%s:127.0.0.1 %s", host, port, eurl), host, eurl, nil)
	d.show(status, body, err)
	d.row(DemoRow{"default execute-api endpoint (disabled)", "none", "HTTP 403", got(status, err), status == 403})
	if status != 403 {
		return fmt.Errorf("the disabled execute-api endpoint answered %d", status)
	}

	d.step("9. A new truststore version (a rotated CA only) changes nothing until the domain is updated")
	newRoot, _ := pki.NewRoot(pki.Options{Subject: pkix.Name{CommonName: "Demo Rotated Root CA", Organization: org}})
	v2, err := d.s3.Put(d.ctx, "demo-trust", "truststore.pem", pki.CertPEM(newRoot.Cert))
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "$ aws s3 cp truststore-v2.pem s3://demo-trust/truststore.pem   # VersionId %s\n", v2)
	status, body, err = d.get(curlBase+" --key "+clientKey+" --cert "+clientFile+" "+url, domain, url, client)
	d.show(status, body, err)
	d.row(DemoRow{"truststore v2 uploaded, domain not updated", "CN=demo client", "HTTP 200 (pinned to v1)", got(status, err), status == 200})
	if status != 200 {
		return fmt.Errorf("after uploading v2 the client got %d: the domain must stay pinned to v1", status)
	}
	if err := d.call("update-domain-name --domain-name "+domain+" --patch-operations op=replace,path=/mutualTlsAuthentication/truststoreVersion,value="+v2,
		"PATCH", "/domainnames/"+domain, map[string]any{"patchOperations": []map[string]string{{"op": "replace", "path": "/mutualTlsAuthentication/truststoreVersion", "value": v2}}}, nil); err != nil {
		return err
	}
	status, body, err = d.get(curlBase+" --key "+clientKey+" --cert "+clientFile+" "+url, domain, url, client)
	d.show(status, body, err)
	d.row(DemoRow{"after update-domain-name to v2", "CN=demo client", "HTTP 403", got(status, err), status == 403})
	if status != 403 {
		return fmt.Errorf("after update-domain-name to v2 the client got %d, want 403", status)
	}
	return nil
}

// got words a request's outcome for a DemoRow.
func got(status int, err error) string {
	if err != nil {
		return "handshake failed"
	}
	return fmt.Sprintf("HTTP %d", status)
}

// get sends one request over a new connection, as curl does.
func (d *demo) get(cmd, host, url string, cert *pki.Issued) (int, string, error) {
	fmt.Fprintf(d.w, "$ %s\n", cmd)
	pool := x509.NewCertPool()
	pool.AddCert(d.rootOf())
	cfg := &tls.Config{ServerName: host, RootCAs: pool, InsecureSkipVerify: strings.Contains(host, ".execute-api.")}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{cert.TLSCertificate()}
	} else if !cfg.InsecureSkipVerify {
		// As curl --tls-max 1.2: the refusal ends the handshake itself
		// (over TLS 1.3 it would surface at the first read instead).
		cfg.MaxVersion = tls.VersionTLS12
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, d.addr)
		}}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

func (d *demo) rootOf() *x509.Certificate {
	data, _ := os.ReadFile(filepath.Join(d.dir, "root.pem"))
	certs, _ := pki.ParseCertsPEM(data)
	if len(certs) == 0 {
		return nil
	}
	return certs[0]
}

func (d *demo) show(status int, body string, err error) {
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) || strings.Contains(err.Error(), "EOF") {
			d.say("handshake failed: %v", err)
			return
		}
		d.say("error: %v", err)
		return
	}
	d.say("HTTP %d %s", status, body)
}

// curl runs a curl command line for real when curl is installed.
func (d *demo) curl(o DemoOptions, cmdline string) {
	if !o.Curl {
		return
	}
	p, err := exec.LookPath("curl")
	if err != nil {
		return
	}
	args := strings.Fields(strings.TrimPrefix(cmdline, "curl "))
	out, _ := exec.CommandContext(d.ctx, p, append([]string{"-sS"}, args...)...).CombinedOutput()
	d.say("(real curl) %s", strings.TrimSpace(string(out)))
}

// memObjects is the demo's in-memory versioned bucket.
type memObjects struct {
	mu sync.Mutex
	v  map[string][]objects.Object
	n  int
}

func newMemObjects() *memObjects { return &memObjects{v: map[string][]objects.Object{}} }

func (m *memObjects) Put(_ context.Context, bucket, key string, data []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	id := fmt.Sprintf("demo%028d", m.n)
	m.v[bucket+"/"+key] = append(m.v[bucket+"/"+key], objects.Object{Bucket: bucket, Key: key, VersionID: id, Bytes: append([]byte(nil), data...)})
	return id, nil
}

func (m *memObjects) Get(_ context.Context, bucket, key, version string) (*objects.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.v[bucket+"/"+key]
	if len(vs) == 0 {
		return nil, &objects.NotFoundError{Err: objects.ErrNoSuchKey, Bucket: bucket, Key: key}
	}
	if version == "" {
		o := vs[len(vs)-1]
		return &o, nil
	}
	for _, o := range vs {
		if o.VersionID == version {
			return &o, nil
		}
	}
	return nil, &objects.NotFoundError{Err: objects.ErrNoSuchVersion, Bucket: bucket, Key: key, VersionID: version}
}

func (m *memObjects) Versioning(context.Context, string) (string, error) { return "Enabled", nil }

func (m *memObjects) Keys(_ context.Context, bucket string, _ int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.v {
		if b, key, _ := strings.Cut(k, "/"); b == bucket {
			out = append(out, key)
		}
	}
	return out, nil
}
