package truststore

import "sync"

// parsedCRLs keeps the CRLs parsed last, by the SHA-256 of their file's
// bytes, so that the same bytes are not parsed twice: the ELBv2 service
// checks a CRL and the build that applies it reads it again, and every
// reload reads the unchanged CRLs again (a 1,000,000-entry CRL takes about
// 0.6 s to parse). It holds the signed bytes of at most maxParsedCRLBytes
// of CRLs, least recently used first out.
var parsedCRLs = &crlCache{max: maxParsedCRLBytes}

// maxParsedCRLBytes bounds the DER bytes the cache keeps: two CRLs at
// ALB's 50 MB file limit (about 37 MB of DER each), or many small ones.
const maxParsedCRLBytes = 80 << 20

type crlCache struct {
	mu      sync.Mutex
	max     int
	total   int
	entries []cachedCRL // least recently used first
}

type cachedCRL struct {
	digest [32]byte
	list   *RevocationList // never handed out: callers get clones
	size   int
}

// get returns a clone of the list parsed from bytes with this digest, or
// nil.
func (c *crlCache) get(digest [32]byte) *RevocationList {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.digest == digest {
			c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
			return e.list.clone()
		}
	}
	return nil
}

// put keeps l (which the caller no longer changes) for digest.
func (c *crlCache) put(digest [32]byte, l *RevocationList, size int) {
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.digest == digest {
			return
		}
	}
	c.entries = append(c.entries, cachedCRL{digest: digest, list: l, size: size})
	c.total += size
	for c.total > c.max {
		c.total -= c.entries[0].size
		c.entries = c.entries[1:]
	}
}

// clone returns a copy of l that shares its read-only parts (the serial
// index, the signed bytes): release on the copy leaves l as it is.
func (l *RevocationList) clone() *RevocationList {
	c := *l
	return &c
}
