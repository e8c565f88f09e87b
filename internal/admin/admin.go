// Package admin serves edge's admin listener: Prometheus metrics, health
// and readiness probes, reload, and a JSON API shaped like the ELBv2 trust
// store operations (DescribeTrustStores, DescribeTrustStoreRevocations,
// AddTrustStoreRevocations, RemoveTrustStoreRevocations).
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"edge/internal/arn"
	"edge/internal/awsquery"
	"edge/internal/config"
	"edge/internal/elbv2"
	"edge/internal/server"
	"edge/internal/truststore"
)

// maxCRLUpload is ALB's revocation file size limit.
const maxCRLUpload = truststore.MaxRevocationFileSize

// Handler returns the admin API for srv. A non-empty token is required as
// "Authorization: Bearer TOKEN" on every endpoint but /healthz and /readyz.
// Start serves it with the token of the current configuration instead.
func Handler(srv *server.Server, token string) http.Handler {
	return handler(srv, func() string { return token }, nil)
}

// Model is the trust-store model behind the revocation endpoints when
// edge's AWS endpoint runs (internal/controlplane; *elbv2.Service
// implements it): a change goes through the ELBv2 service — checked,
// applied, persisted in the state directory, numbered by the same counter
// as AddTrustStoreRevocations — and listings and ARNs are the service's.
// Without a Model the endpoints change the running server
// (server.AddRevocation), and the change lasts until edge exits.
type Model interface {
	TrustStoreARN(name string) (arn string, ok bool)
	Revocations(name string) ([]elbv2.RevocationInfo, bool)
	AddRevocation(ctx context.Context, name string, data []byte) (elbv2.RevocationInfo, error)
	RemoveRevocation(ctx context.Context, name string, id int64) error
}

// handler is Handler with the token asked per request and the optional
// model.
func handler(srv *server.Server, token func() string, model Model) http.Handler {
	a := &api{srv: srv, model: model}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !srv.Ready() {
			http.Error(w, "not ready: listeners are not bound", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	protected := http.NewServeMux()
	protected.Handle("GET /metrics", promhttp.HandlerFor(srv.Metrics().Registry, promhttp.HandlerOpts{}))
	protected.HandleFunc("POST /reload", a.reload)
	protected.HandleFunc("GET /trust-stores", a.trustStores)
	protected.HandleFunc("GET /trust-stores/{name}/revocations", a.revocations)
	protected.HandleFunc("POST /trust-stores/{name}/revocations", a.addRevocation)
	protected.HandleFunc("DELETE /trust-stores/{name}/revocations/{id}", a.removeRevocation)
	protected.HandleFunc("GET /listeners", a.listeners)
	protected.HandleFunc("GET /connections/recent", a.recent)
	mux.Handle("/", authorize(token, protected))
	return mux
}

func authorize(token func() string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := token()
		if tok == "" {
			next.ServeHTTP(w, r)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+tok)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="edge admin"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{"Unauthorized", "send Authorization: Bearer <admin.token>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

type api struct {
	srv   *server.Server
	model Model
}

// modelError answers an error of the Model with its AWS code.
func modelError(w http.ResponseWriter, err error) {
	var ae *awsquery.Error
	if !errors.As(err, &ae) {
		writeJSON(w, http.StatusInternalServerError, errorBody{"InternalFailure", err.Error()})
		return
	}
	status := http.StatusBadRequest
	switch ae.Code {
	case elbv2.ErrTrustStoreNotFound.Code, elbv2.ErrRevocationIdNotFound.Code:
		status = http.StatusNotFound
	default:
		if ae.HTTPStatus() >= 500 {
			status = ae.HTTPStatus()
		}
	}
	writeJSON(w, status, errorBody{ae.Code, ae.Message})
}

func modelRevocation(r elbv2.RevocationInfo) revocation {
	return revocation{TrustStoreArn: r.TrustStoreArn, RevocationId: r.RevocationID, RevocationType: "CRL", NumberOfRevokedEntries: int(r.Entries), Source: r.Source}
}

type errorBody struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<admin.token>", not "\u003cadmin.token\u003e"
	enc.Encode(v)
}

func (a *api) reload(w http.ResponseWriter, r *http.Request) {
	err := a.srv.ReloadFromSource()
	if err == nil {
		writeJSON(w, http.StatusOK, map[string]string{"result": "success"})
		return
	}
	var problems []string
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			problems = append(problems, p.String())
		}
	} else {
		problems = []string{err.Error()}
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"result": "failure", "problems": problems})
}

// TrustStoreARN is arn:aws:elasticloadbalancing:<region>:<account>:truststore/<name>/<16 hex>,
// the ARN the AWS endpoint gives the trust store of edge.yaml
// (elbv2.FileTrustStoreARN): both come from package arn.
func TrustStoreARN(snap *server.Snapshot, name string) string {
	return arn.New(snap.Config.Region, snap.Config.AccountID).TrustStore(name, arn.TrustStoreID(name))
}

type trustStore struct {
	Name                   string              `json:"Name"`
	TrustStoreArn          string              `json:"TrustStoreArn"`
	Status                 string              `json:"Status"`
	NumberOfCaCertificates int                 `json:"NumberOfCaCertificates"`
	TotalRevokedEntries    int                 `json:"TotalRevokedEntries"`
	RevocationCheck        string              `json:"RevocationCheck"`
	Version                server.StoreVersion `json:"Version"`
}

func (a *api) trustStores(w http.ResponseWriter, r *http.Request) {
	snap := a.srv.Snapshot()
	names := make([]string, 0, len(snap.TrustStores))
	for n := range snap.TrustStores {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []trustStore{}
	for _, n := range names {
		st := snap.TrustStores[n]
		out = append(out, trustStore{Name: n, TrustStoreArn: a.storeARN(snap, n), Status: "ACTIVE", NumberOfCaCertificates: len(st.CAs),
			TotalRevokedEntries: st.TotalRevokedEntries(), RevocationCheck: st.Mode.String(), Version: snap.StoreVersions[n]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"TrustStores": out})
}

type revocation struct {
	TrustStoreArn          string `json:"TrustStoreArn"`
	RevocationId           int64  `json:"RevocationId"`
	RevocationType         string `json:"RevocationType"`
	NumberOfRevokedEntries int    `json:"NumberOfRevokedEntries"`
	Source                 string `json:"Source"`
	NextUpdate             string `json:"NextUpdate,omitempty"`
}

// storeARN is the ARN Describe calls give the trust store named name: the
// model's when an AWS endpoint runs (API-created stores have random ids),
// else the one derived from the name.
func (a *api) storeARN(snap *server.Snapshot, name string) string {
	if a.model != nil {
		if m, ok := a.model.TrustStoreARN(name); ok {
			return m
		}
	}
	return TrustStoreARN(snap, name)
}

func (a *api) describe(snap *server.Snapshot, store string, c *truststore.CRL) revocation {
	rv := revocation{TrustStoreArn: a.storeARN(snap, store), RevocationId: c.ID, RevocationType: "CRL", NumberOfRevokedEntries: c.NumberOfRevokedEntries(), Source: c.Source}
	if !c.List.NextUpdate.IsZero() {
		rv.NextUpdate = c.List.NextUpdate.UTC().Format("2006-01-02T15:04:05Z")
	}
	return rv
}

func (a *api) store(w http.ResponseWriter, r *http.Request) (*server.Snapshot, *truststore.Store) {
	snap := a.srv.Snapshot()
	st := snap.TrustStores[r.PathValue("name")]
	if st == nil {
		writeJSON(w, http.StatusNotFound, errorBody{"TrustStoreNotFound", "no trust store named " + strconv.Quote(r.PathValue("name"))})
	}
	return snap, st
}

func (a *api) revocations(w http.ResponseWriter, r *http.Request) {
	if a.model != nil {
		revs, ok := a.model.Revocations(r.PathValue("name"))
		if !ok {
			writeJSON(w, http.StatusNotFound, errorBody{"TrustStoreNotFound", "no trust store named " + strconv.Quote(r.PathValue("name"))})
			return
		}
		out := []revocation{}
		for _, rv := range revs {
			out = append(out, modelRevocation(rv))
		}
		writeJSON(w, http.StatusOK, map[string]any{"TrustStoreRevocations": out})
		return
	}
	snap, st := a.store(w, r)
	if st == nil {
		return
	}
	out := []revocation{}
	for _, c := range st.CRLs {
		out = append(out, a.describe(snap, st.Name, c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"TrustStoreRevocations": out})
}

func (a *api) addRevocation(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	data, err := io.ReadAll(io.LimitReader(r.Body, maxCRLUpload+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{"InvalidRevocationContent", err.Error()})
		return
	}
	if len(data) > maxCRLUpload {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{"InvalidRevocationContent", "the CRL is larger than ALB's 50 MB limit"})
		return
	}
	if a.model != nil {
		rv, err := a.model.AddRevocation(r.Context(), name, data)
		if err != nil {
			modelError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"TrustStoreRevocations": []revocation{modelRevocation(rv)}})
		return
	}
	c, err := a.srv.AddRevocation(name, data)
	if err != nil {
		writeError(w, err)
		return
	}
	snap := a.srv.Snapshot()
	writeJSON(w, http.StatusOK, map[string]any{"TrustStoreRevocations": []revocation{a.describe(snap, name, c)}})
}

func (a *api) removeRevocation(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{"ValidationError", "revocation id must be a number"})
		return
	}
	if a.model != nil {
		if err := a.model.RemoveRevocation(r.Context(), r.PathValue("name"), id); err != nil {
			modelError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	if err := a.srv.RemoveRevocation(r.PathValue("name"), id); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// errorCode maps an error of the server's trust-store operations to the
// HTTP status and the ELBv2 error code AWS answers the same mistake with.
// The error's type decides, never its text: the errors wrap their causes
// through config.Problems (truststore's sentinels, server.NotFoundError).
func errorCode(err error) (int, string) {
	var nf *server.NotFoundError
	switch {
	case errors.As(err, &nf) && nf.RevocationID != 0:
		return http.StatusNotFound, "RevocationIdNotFound"
	case errors.As(err, &nf):
		return http.StatusNotFound, "TrustStoreNotFound"
	case errors.Is(err, truststore.ErrTooManyRevocationEntries):
		return http.StatusBadRequest, truststore.ErrTooManyEntriesCode
	case errors.Is(err, truststore.ErrInvalidRevocationContent):
		return http.StatusBadRequest, "InvalidRevocationContent"
	case errors.Is(err, server.ErrStopped), errors.Is(err, server.ErrFileChanging):
		// Nothing was applied; the same call can succeed later.
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	}
	// The configuration rebuilt around the change has another problem
	// (a file broken since the last reload): ELBv2's code for a request
	// whose resulting configuration is not valid.
	return http.StatusBadRequest, "InvalidConfigurationRequest"
}

func writeError(w http.ResponseWriter, err error) {
	status, code := errorCode(err)
	writeJSON(w, status, errorBody{code, err.Error()})
}

type listener struct {
	Index int `json:"Index"`
	// LoadBalancer names the listener's load balancer; ELB is its elb
	// log field (app/NAME/ID).
	LoadBalancer                  string `json:"LoadBalancer"`
	ELB                           string `json:"ELB"`
	Address                       string `json:"Address"`
	Protocol                      string `json:"Protocol"`
	SslPolicy                     string `json:"SslPolicy,omitempty"`
	Mode                          string `json:"Mode"`
	TrustStore                    string `json:"TrustStore,omitempty"`
	IgnoreClientCertificateExpiry bool   `json:"IgnoreClientCertificateExpiry"`
	AdvertiseTrustStoreCaNames    string `json:"AdvertiseTrustStoreCaNames"`
	Rules                         int    `json:"Rules"`
	DefaultAction                 string `json:"DefaultAction"`
}

func (a *api) listeners(w http.ResponseWriter, r *http.Request) {
	snap := a.srv.Snapshot()
	addrs := snap.Addrs() // of this snapshot, whatever reloads happen meanwhile
	out := []listener{}
	for i, l := range snap.Listeners {
		v := listener{Index: l.Index, Address: l.Addr(), Protocol: l.Protocol, Mode: "off", AdvertiseTrustStoreCaNames: "off", Rules: l.Rules, DefaultAction: l.DefaultAction}
		if lb := l.LoadBalancer; lb != nil {
			v.LoadBalancer, v.ELB = lb.Name, lb.ELB
		}
		if i < len(addrs) {
			v.Address = addrs[i].String()
		}
		if t := l.Term; t != nil {
			v.SslPolicy, v.Mode, v.TrustStore, v.IgnoreClientCertificateExpiry = t.Policy.Name, t.Mode.String(), l.TrustStoreName, t.IgnoreExpiry
			if t.AdvertiseCANames {
				v.AdvertiseTrustStoreCaNames = "on"
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Listeners": out})
}

func (a *api) recent(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"Connections": a.srv.RecentVerdicts()})
}
