package console

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"edge/internal/admin"
	"edge/internal/certfmt"
	"edge/internal/elbv2"
	"edge/internal/pki"
	"edge/internal/server"
	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// feedRows is how many connections the feed page shows (and keeps while
// it follows the feed).
const feedRows = 200

type listenerOpt struct {
	Index int
	Label string
}

type feedData struct {
	Filter    filter
	Query     string
	Listeners []listenerOpt
	Statuses  []string
	Conns     []feedConn // newest first
	Last      uint64
	History   int
	Batch     int
	Interval  string
}

func (c *Console) listenerOpts(snap *server.Snapshot) []listenerOpt {
	addrs := c.srv.Addrs()
	var out []listenerOpt
	for i, l := range snap.Listeners {
		addr := l.Addr()
		if i < len(addrs) {
			addr = addrs[i].String()
		}
		mode := "off"
		if l.Term != nil {
			mode = l.Term.Mode.String()
		}
		out = append(out, listenerOpt{l.Index, fmt.Sprintf("#%d %s %s (%s)", l.Index, l.Protocol, addr, mode)})
	}
	return out
}

func (c *Console) feedPage(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query().Get)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := feedData{Filter: f, Query: f.query(), Listeners: c.listenerOpts(c.srv.Snapshot()), History: ConnHistory, Batch: FeedBatch, Interval: c.o.Interval.String()}
	for _, s := range truststore.Statuses() {
		if s != truststore.StatusNone {
			d.Statuses = append(d.Statuses, s.String())
		}
	}
	d.Last = c.conns.last.Load()
	c.conns.newest(0, func(seq uint64, v *server.Verdict) bool {
		if seq > d.Last {
			return true // arrived after d.Last: the feed will send it
		}
		if f.match(v) {
			d.Conns = append(d.Conns, toFeed(seq, v))
		}
		return len(d.Conns) < feedRows
	})
	c.render(w, http.StatusOK, "feed.html", d)
}

type connData struct {
	TraceID     string
	Found       bool
	Conn        feedConn
	Listener    string
	Explanation *truststore.Explanation
	Requests    []request // oldest first
	ConnHistory int
	ReqHistory  int
}

// findConn looks a connection up in the history by conn_trace_id.
func (c *Console) findConn(id string) (feedConn, bool) {
	var out feedConn
	found := false
	c.conns.newest(0, func(seq uint64, v *server.Verdict) bool {
		if v.TraceID == id {
			out, found = toFeed(seq, v), true
			return false
		}
		return true
	})
	return out, found
}

// requestsOf returns the requests of a connection the history holds,
// oldest first.
func (c *Console) requestsOf(id string) []request {
	var out []request
	c.requests.newest(0, func(_ uint64, q *request) bool {
		if q.ConnTraceID == id {
			out = append(out, *q)
		}
		return true
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// connPage shows one connection: its verdict, the explanation of a
// failure, and the requests made on it. ?fragment=1 returns only the
// explanation or the requests, for the feed to open in place; a program
// asking for application/json gets the same as JSON.
func (c *Console) connPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d := connData{TraceID: id, ConnHistory: ConnHistory, ReqHistory: RequestHistory}
	d.Conn, d.Found = c.findConn(id)
	if d.Found {
		if d.Conn.Explanation != nil {
			d.Explanation = d.Conn.Explanation.Get()
		}
		for _, l := range c.listenerOpts(c.srv.Snapshot()) {
			if l.Index == d.Conn.Listener {
				d.Listener = l.Label
			}
		}
	}
	d.Requests = c.requestsOf(id)
	status := http.StatusOK
	if !d.Found && len(d.Requests) == 0 {
		status = http.StatusNotFound
	}
	switch {
	case strings.Contains(r.Header.Get("Accept"), "application/json"):
		out := map[string]any{"conn_trace_id": id, "requests": jsonRequests(d.Requests)}
		if d.Found {
			out["connection"] = d.Conn
		}
		writeJSON(w, status, out)
	case r.URL.Query().Get("fragment") != "":
		w.WriteHeader(status)
		c.renderFragment(w, "conn.html", "conndetail", d)
	default:
		c.render(w, status, "conn.html", d)
	}
}

type jsonRequest struct {
	Time         string `json:"time"`
	Type         string `json:"type"`
	Request      string `json:"request"`
	ELBStatus    int    `json:"elb_status_code"`
	TargetStatus int    `json:"target_status_code,omitempty"`
	Actions      string `json:"actions_executed"`
	Target       string `json:"target,omitempty"`
	TraceID      string `json:"trace_id"`
	ErrorReason  string `json:"error_reason,omitempty"`
}

func jsonRequests(qs []request) []jsonRequest {
	out := []jsonRequest{}
	for _, q := range qs {
		out = append(out, jsonRequest{Time: q.Time.UTC().Format(timeFormat), Type: q.Type, Request: q.Method + " " + q.Host + q.URI + " " + q.Proto,
			ELBStatus: q.ELBStatus, TargetStatus: q.TargetStatus, Actions: q.Actions, Target: q.Target, TraceID: q.TraceID, ErrorReason: q.ErrorReason})
	}
	return out
}

// trustData is the trust-store page.
type trustData struct {
	Listeners []listenerView
	Stores    []storeView
	// AWS is nil when edge serves no AWS endpoint.
	AWS *elbv2.State
	Now time.Time
}

type listenerView struct {
	Index                                 int
	Address, Protocol, Mode, TrustStore   string
	Policy, DefaultAction, AdvertiseNames string
	IgnoreExpiry                          bool
	Rules                                 int
	Attributes                            []attrView
}

type attrView struct {
	Key, Value string
	// Set is true for a value given in the configuration (not a default).
	Set bool
}

type storeView struct {
	Name, ARN, RevocationCheck string
	Version                    server.StoreVersion
	NumCAs, TotalRevoked       int
	Roots                      []*caNode
	CRLs                       []crlView
	Notes                      []string
	Listeners                  []string
}

// caNode is one CA certificate of a bundle, under the CA of the bundle
// that issued it.
type caNode struct {
	Index                       int // 1-based position in the bundle
	Subject, Issuer, Serial     string
	NotBefore, NotAfter         time.Time
	KeyType, SignatureAlgorithm string
	State                       string // "valid", "expired", "not yet valid"
	SelfSigned, IssuerOutside   bool
	Children                    []*caNode
}

type crlView struct {
	ID                     int64
	Issuer, Source, Number string
	Entries                int
	ThisUpdate, NextUpdate time.Time
	Stale                  bool
}

func (c *Console) trustPage(w http.ResponseWriter, r *http.Request) {
	snap := c.srv.Snapshot()
	now := time.Now()
	d := trustData{Now: now}
	addrs := c.srv.Addrs()
	users := map[string][]string{}
	for i, l := range snap.Listeners {
		v := listenerView{Index: l.Index, Address: l.Addr(), Protocol: l.Protocol, Mode: "off", AdvertiseNames: "off", DefaultAction: l.DefaultAction, Rules: l.Rules}
		if i < len(addrs) {
			v.Address = addrs[i].String()
		}
		if t := l.Term; t != nil {
			v.Mode, v.Policy, v.IgnoreExpiry = t.Mode.String(), t.Policy.Name, t.IgnoreExpiry
			if t.Mode == tlsterm.ModeVerify {
				v.TrustStore = l.TrustStoreName
				users[l.TrustStoreName] = append(users[l.TrustStoreName], fmt.Sprintf("#%d", l.Index))
			}
			if t.AdvertiseCANames {
				v.AdvertiseNames = "on"
			}
		}
		for _, a := range l.Attributes.List() {
			v.Attributes = append(v.Attributes, attrView{a.Key, a.Value, l.Attributes.IsSet(a.Key)})
		}
		d.Listeners = append(d.Listeners, v)
	}
	for _, name := range storeNames(snap) {
		st := snap.TrustStores[name]
		sv := storeView{Name: name, ARN: c.storeARN(snap, name), RevocationCheck: st.Mode.String(), Version: snap.StoreVersions[name],
			NumCAs: len(st.CAs), TotalRevoked: st.TotalRevokedEntries(), Roots: caTree(st.CAs, now), Notes: st.Notes(), Listeners: users[name]}
		for _, crl := range st.CRLs {
			cv := crlView{ID: crl.ID, Issuer: certfmt.DN(crl.List.RawIssuer), Source: crl.Source, Entries: crl.NumberOfRevokedEntries(),
				ThisUpdate: crl.List.ThisUpdate, NextUpdate: crl.List.NextUpdate, Stale: crl.Stale(now)}
			if crl.List.Number != nil {
				cv.Number = crl.List.Number.String()
			}
			sv.CRLs = append(sv.CRLs, cv)
		}
		d.Stores = append(d.Stores, sv)
	}
	if c.o.AWS != nil {
		d.AWS = c.o.AWS.State()
		if d.AWS == nil {
			d.AWS = elbv2.NewState()
		}
	}
	c.render(w, http.StatusOK, "trust.html", d)
}

// storeARN is the trust store's ARN as Describe calls give it (random ids
// for stores created through the AWS endpoint).
func (c *Console) storeARN(snap *server.Snapshot, name string) string {
	if c.o.AWS != nil {
		if a, ok := c.o.AWS.TrustStoreARN(name); ok {
			return a
		}
	}
	return admin.TrustStoreARN(snap, name)
}

func storeNames(snap *server.Snapshot) []string {
	names := make([]string, 0, len(snap.TrustStores))
	for n := range snap.TrustStores {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// caTree arranges a bundle's CA certificates under the CA of the bundle
// that issued each (same name, and its signature verifies); the others
// are roots of the tree: self-signed, or issued by a CA outside the
// bundle. Cross-signed loops are cut where they close.
func caTree(cas []*x509.Certificate, now time.Time) []*caNode {
	nodes := make([]*caNode, len(cas))
	for i, c := range cas {
		n := &caNode{Index: i + 1, Subject: certfmt.DN(c.RawSubject), Issuer: certfmt.DN(c.RawIssuer), Serial: certfmt.Serial(c),
			NotBefore: c.NotBefore, NotAfter: c.NotAfter, KeyType: keyType(c), SignatureAlgorithm: c.SignatureAlgorithm.String(), State: "valid",
			SelfSigned: string(c.RawIssuer) == string(c.RawSubject)}
		switch {
		case now.Before(c.NotBefore):
			n.State = "not yet valid"
		case now.After(c.NotAfter):
			n.State = "expired"
		}
		nodes[i] = n
	}
	parent := make([]int, len(cas))
	for i, c := range cas {
		parent[i] = -1
		if nodes[i].SelfSigned {
			continue
		}
		for j, p := range cas {
			if j != i && string(p.RawSubject) == string(c.RawIssuer) && c.CheckSignatureFrom(p) == nil {
				parent[i] = j
				break
			}
		}
		nodes[i].IssuerOutside = parent[i] < 0
	}
	placed := make([]bool, len(cas))
	var roots []*caNode
	var place func(i int)
	place = func(i int) {
		placed[i] = true
		for j := range cas {
			if parent[j] == i && !placed[j] {
				nodes[i].Children = append(nodes[i].Children, nodes[j])
				place(j)
			}
		}
	}
	for i := range cas {
		if parent[i] < 0 {
			roots = append(roots, nodes[i])
			place(i)
		}
	}
	for i := range cas { // in a loop of cross-signatures: start at the first
		if !placed[i] {
			roots = append(roots, nodes[i])
			place(i)
		}
	}
	return roots
}

// keyType names a certificate's key: "RSA 2048", "ECDSA P-256", "Ed25519".
func keyType(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

// maxChainUpload bounds a pasted or uploaded chain. ALB's limit on a
// client chain is 64 KB of DER; PEM adds a third.
const maxChainUpload = 1 << 20

type verifyData struct {
	PEM          string
	IgnoreExpiry bool
	At           string
	Error        string
	Presented    []truststore.ChainCert
	Results      []StoreVerdict
	Posted       bool
}

func (c *Console) verifyForm(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "verify.html", verifyData{})
}

// verifyChain verifies a pasted (field pem) or uploaded (field file)
// chain against every trust store and shows each verdict with its
// explanation; application/json callers get the explanations as JSON.
func (c *Console) verifyChain(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxChainUpload+64<<10)
	d := verifyData{Posted: true}
	status := http.StatusOK
	var data []byte
	name := "chain.pem"
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(maxChainUpload)
		if err == nil {
			if f, h, ferr := r.FormFile("file"); ferr == nil {
				data, err = io.ReadAll(io.LimitReader(f, maxChainUpload+1))
				f.Close()
				name = h.Filename
			}
		}
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		d.Error = "could not read the form: " + err.Error()
		c.render(w, http.StatusBadRequest, "verify.html", d)
		return
	}
	if len(data) == 0 {
		data = []byte(r.PostFormValue("pem"))
	}
	d.PEM = string(data)
	d.IgnoreExpiry = r.PostFormValue("ignore_expiry") != ""
	d.At = strings.TrimSpace(r.PostFormValue("at"))
	opts := truststore.VerifyOptions{IgnoreExpiry: d.IgnoreExpiry}
	if d.At != "" {
		if opts.Now, err = parseTime(d.At); err != nil {
			d.Error = fmt.Sprintf("verification time %q: %v", d.At, err)
		}
	}
	if d.Error == "" && len(bytes.TrimSpace(data)) == 0 {
		d.Error = "no chain: paste it as the form field pem, or upload it as the file field file (PEM: the client certificate first, then its issuers)"
	}
	if d.Error == "" && len(data) > maxChainUpload {
		d.Error = fmt.Sprintf("the chain is larger than %d bytes", maxChainUpload)
	}
	if d.Error == "" {
		var presented []*x509.Certificate
		d.Results, presented, err = VerifyAll(c.srv.Snapshot(), name, data, opts)
		if err != nil {
			d.Error = err.Error()
		}
		// An explanation without a built path describes the chain as
		// presented.
		d.Presented = truststore.Explain(truststore.Verdict{}, presented, nil, time.Time{}).Chain
	}
	if d.Error != "" {
		status = http.StatusBadRequest
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		if d.Error != "" {
			writeJSON(w, status, map[string]string{"Code": "InvalidChain", "Message": d.Error})
			return
		}
		out := []map[string]any{}
		for _, x := range d.Results {
			out = append(out, map[string]any{"trust_store": x.Store, "listeners": x.Listeners, "verdict": x.Explanation})
		}
		writeJSON(w, status, map[string]any{"results": out})
		return
	}
	c.render(w, status, "verify.html", d)
}

// VerifyAll verifies the PEM chain data (leaf first; file names it in
// messages) against every trust store of snap, in name order, as a
// verify-mode listener would with opts, and explains each verdict as
// `edge verify` does. A chain with a certificate Go cannot parse gets the
// status ALB would log for it from every store; input that holds no
// certificate (or is DER, or has a byte-order mark) is an error that says
// what to do.
func VerifyAll(snap *server.Snapshot, file string, data []byte, opts truststore.VerifyOptions) ([]StoreVerdict, []*x509.Certificate, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	presented, perr := pki.ReadCertsPEM(file, data)
	var bad *pki.CertificateError
	var fixed *truststore.Verdict
	switch {
	case errors.As(perr, &bad):
		// Go's TLS stack refuses such a chain before verification.
		fixed = &truststore.Verdict{Status: truststore.ClassifyUnparseable(bad.DER), Detail: perr.Error()}
	case perr != nil:
		return nil, nil, perr
	}
	users := map[string][]string{}
	for _, l := range snap.Listeners {
		if l.Term != nil && l.Term.Mode == tlsterm.ModeVerify {
			users[l.TrustStoreName] = append(users[l.TrustStoreName], "#"+strconv.Itoa(l.Index))
		}
	}
	var out []StoreVerdict
	for _, name := range storeNames(snap) {
		st := snap.TrustStores[name]
		var v truststore.Verdict
		if fixed != nil {
			v = *fixed
		} else {
			v = st.Verify(presented, opts)
		}
		out = append(out, StoreVerdict{Store: name, Listeners: users[name], Explanation: truststore.Explain(v, presented, st, opts.Now)})
	}
	return out, presented, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("want RFC 3339 (2020-01-01T00:00:00Z) or a date (2020-01-01)")
}
