package server

import (
	"crypto/x509"
	"encoding/json"
	"sync"
	"time"

	"edge/internal/tlsterm"
	"edge/internal/truststore"
)

// Reason says why a connection attempt failed, in the words of `edge
// verify`: the check that failed, why, and the whole explanation. It is
// empty for a successful handshake and on HTTP listeners.
type Reason struct {
	// FailedCheck names the check (truststore.CheckName), e.g. "validity
	// period".
	FailedCheck string `json:"failed_check,omitempty"`
	// Detail is the verdict's "why"; for a handshake that failed before
	// verification (no certificate, a certificate Go cannot parse, a
	// protocol error) it is Go's error.
	Detail string `json:"detail,omitempty"`
	// Explanation is built when first read (JSON or Get), so a flood of
	// failing clients costs no more than a field copy each.
	Explanation *Explanation `json:"explanation,omitempty"`
}

// Explanation is truststore.Explain of one failed handshake, computed on
// first use. It is safe for concurrent use.
type Explanation struct {
	once      sync.Once
	verdict   truststore.Verdict
	check     string
	presented []*x509.Certificate
	store     *truststore.Store
	at        time.Time
	e         *truststore.Explanation
}

// Get returns the explanation.
func (x *Explanation) Get() *truststore.Explanation {
	x.once.Do(func() {
		x.e = truststore.Explain(x.verdict, x.presented, x.store, x.at)
		x.e.Check = x.check
		x.presented, x.store = nil, nil
	})
	return x.e
}

// MarshalJSON writes the explanation as `edge verify --format json` does.
func (x *Explanation) MarshalJSON() ([]byte, error) { return json.Marshal(x.Get()) }

// reasonOf tells why r, a connection to the listener with config index
// index, failed; nothing when it did not.
func reasonOf(r *tlsterm.Result, snap *Snapshot, index int) Reason {
	if r.Err == nil || !r.TLS {
		return Reason{}
	}
	store := storeAt(snap, index)
	var v truststore.Verdict
	check := ""
	if r.Verdict != nil {
		v = *r.Verdict
		check = truststore.CheckName(v.Status)
	} else {
		// Go ended the handshake before edge's verification ran: it
		// could not parse or use the client's certificate (a status
		// tlsterm.Classify recognised), or the handshake itself failed
		// (no certificate sent, no common protocol version or cipher,
		// a timeout, a closed connection).
		v = truststore.Verdict{Status: r.Status, Detail: r.Err.Error()}
		check = CheckHandshake
		if r.Status != truststore.UnmappedConnectionError {
			check = truststore.CheckName(r.Status)
		}
	}
	return Reason{
		FailedCheck: check,
		Detail:      v.Detail,
		Explanation: &Explanation{verdict: v, check: check, presented: r.State.PeerCertificates, store: store, at: r.End},
	}
}

// CheckHandshake is the failed check of a handshake that failed before a
// client chain could be verified; Detail then holds Go's error.
const CheckHandshake = "TLS handshake"

// storeAt returns the trust store of the listener with config index
// index in snap, or nil.
func storeAt(snap *Snapshot, index int) *truststore.Store {
	for _, l := range snap.Listeners {
		if l.Index == index && l.Term != nil && l.Term.Mode == tlsterm.ModeVerify {
			return l.Term.TrustStore
		}
	}
	return nil
}
