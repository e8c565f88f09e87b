package elbv2

import (
	"encoding/json"
	"path/filepath"
	"time"
)

// SchemaVersion is the version of state.json this package writes. Load
// refuses a newer one rather than dropping what it does not know.
const SchemaVersion = 1

// State is every resource created through the API: what state.json holds.
// File-layer (edge.yaml) resources are not in it, except the revocations
// added to file-layer trust stores (FileRevocations). A State is never
// changed after it was applied; mutations work on a Clone.
type State struct {
	Schema        int             `json:"schema"`
	TrustStores   []*TrustStore   `json:"trust_stores,omitempty"`
	LoadBalancers []*LoadBalancer `json:"load_balancers,omitempty"`
	TargetGroups  []*TargetGroup  `json:"target_groups,omitempty"`
	Listeners     []*Listener     `json:"listeners,omitempty"`
	Rules         []*Rule         `json:"rules,omitempty"`
	// FileRevocations are revocations added to (or removed from)
	// file-layer trust stores through the API, by trust store name.
	FileRevocations map[string]*FileRevocations `json:"file_revocations,omitempty"`

	// blobDir is where Blob paths resolve (the store's blobs/sha256).
	blobDir string
}

// Blob is an immutable copy of an S3 object the API loaded (a CA bundle or
// a CRL), stored under blobs/sha256/<SHA256>.
type Blob struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Bucket, Key and VersionID say where it was read from.
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
}

// TrustStore is a trust store: its bundle, revocations and tags.
type TrustStore struct {
	Name                   string        `json:"name"`
	Arn                    string        `json:"arn"`
	Bundle                 Blob          `json:"bundle"`
	NumberOfCaCertificates int           `json:"number_of_ca_certificates"`
	Revocations            []*Revocation `json:"revocations,omitempty"`
	// NextRevocationID is the last revocation id handed out: ids are
	// never reused, across restarts too.
	NextRevocationID int64     `json:"next_revocation_id"`
	Tags             []Tag     `json:"tags,omitempty"`
	Created          time.Time `json:"created"`

	file *fileInfo
}

// Revocation is one CRL of a trust store.
type Revocation struct {
	ID      int64 `json:"id"`
	CRL     Blob  `json:"crl"`
	Entries int64 `json:"entries"`
	// Path is a file-layer CRL's file (empty for API revocations).
	Path string `json:"-"`
}

// FileRevocations are API changes to a file-layer trust store's CRLs.
// The file's own CRLs have ids 1..n in file order.
type FileRevocations struct {
	Added   []*Revocation `json:"added,omitempty"`
	Removed []int64       `json:"removed,omitempty"`
	// NextRevocationID is the last id handed out (at least n).
	NextRevocationID int64 `json:"next_revocation_id"`
}

// LoadBalancer is an application load balancer.
type LoadBalancer struct {
	LoadBalancerInfo
	SubnetMappings []SubnetMapping   `json:",omitempty"`
	Attributes     map[string]string `json:",omitempty"`
	Tags           []Tag             `json:",omitempty"`

	file *fileInfo
}

// TargetGroup is a target group and its targets.
type TargetGroup struct {
	TargetGroupInfo
	Targets    []TargetDescription `json:",omitempty"`
	Attributes map[string]string   `json:",omitempty"`
	Tags       []Tag               `json:",omitempty"`

	file *fileInfo
}

// Listener is a listener of a load balancer.
type Listener struct {
	ListenerInfo
	// ExtraCertificates are the non-default certificates
	// (AddListenerCertificates).
	ExtraCertificates []Certificate     `json:",omitempty"`
	DefaultRuleArn    string            `json:",omitempty"`
	Attributes        map[string]string `json:",omitempty"`
	Tags              []Tag             `json:",omitempty"`

	file *fileInfo
}

// Rule is a listener rule other than the default rule.
type Rule struct {
	RuleInfo
	ListenerArn string
	Tags        []Tag `json:",omitempty"`

	file *fileInfo
}

// fileInfo marks a resource of the file layer.
type fileInfo struct {
	// where names the resource in the file ("edge.yaml line 12").
	where string
	// path is a trust store's bundle file.
	path string
}

// NewState returns an empty state.
func NewState() *State { return &State{Schema: SchemaVersion} }

// Clone returns a deep copy of st.
func (st *State) Clone() *State {
	b, err := json.Marshal(st)
	if err != nil {
		panic("elbv2: state does not marshal: " + err.Error())
	}
	c := &State{}
	if err := json.Unmarshal(b, c); err != nil {
		panic("elbv2: state does not unmarshal: " + err.Error())
	}
	c.blobDir = st.blobDir
	return c
}

// BlobPath is the file holding blob b.
func (st *State) BlobPath(b Blob) string { return filepath.Join(st.blobDir, b.SHA256) }

func deleteFrom[T any](s []*T, match func(*T) bool) []*T {
	out := s[:0]
	for _, x := range s {
		if !match(x) {
			out = append(out, x)
		}
	}
	return out
}
