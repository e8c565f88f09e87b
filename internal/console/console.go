package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"edge/internal/elbv2"
	"edge/internal/logfmt"
	"edge/internal/server"
	"edge/internal/tlsterm"
)

// History sizes: the console keeps the last ConnHistory connection
// attempts and the last RequestHistory requests, whatever the load.
const (
	ConnHistory    = 1024
	RequestHistory = 4096
)

// Feed limits: every FeedInterval a stream sends at most FeedBatch
// connections (the newest that match its filters) and counts the rest as
// "more"; at most MaxStreams streams are open at once.
const (
	FeedInterval = 250 * time.Millisecond
	FeedBatch    = 50
	MaxStreams   = 16
)

// CookieName is the cookie that carries a browser's proof of the admin
// token.
const CookieName = "edge_console"

// AWSResources gives the resources created through the AWS endpoint;
// *elbv2.Service implements it.
type AWSResources interface {
	// State is the API-created state (nil: none yet).
	State() *elbv2.State
	// TrustStoreARN is the ARN Describe calls give the trust store named
	// name, of the file or of the API; ok is false for an unknown name.
	TrustStoreARN(name string) (arn string, ok bool)
}

// Options configure a Console.
type Options struct {
	// Token returns the admin token in force (admin.token); nil, or a
	// function returning "", leaves the console open, as the admin API is
	// without a token. It is asked on every request, so a rotated token
	// applies at once and ends the sessions of the old one.
	Token func() string
	// AWS, when set, adds the resources created through the AWS endpoint
	// to the trust-store page.
	AWS AWSResources
	// Interval is the feed's push interval; zero means FeedInterval.
	Interval time.Duration
}

// Console serves the web console and records what it shows. Create it
// with Attach.
type Console struct {
	srv  *server.Server
	next http.Handler
	o    Options
	mux  *http.ServeMux

	conns    *ring[server.Verdict]
	requests *ring[request]

	// key signs session cookies; a restart ends every session.
	key []byte
	// ended holds the ids of sessions signed out (at most maxEnded; past
	// that the key is replaced, which ends every session).
	sessMu sync.Mutex
	ended  map[string]bool

	streams   chan struct{} // a token per open stream
	done      chan struct{}
	closeOnce sync.Once
	hooked    sync.Map // *http.Server → true once its shutdown ends our streams
}

// Attach makes c observe srv (server.Server.SetObserver) and returns it:
// as an http.Handler it serves the console at GET / and under /console/,
// and passes every other request to next (the admin API).
func Attach(srv *server.Server, next http.Handler, o Options) *Console {
	if o.Interval <= 0 {
		o.Interval = FeedInterval
	}
	c := &Console{
		srv: srv, next: next, o: o,
		conns:    newRing[server.Verdict](ConnHistory),
		requests: newRing[request](RequestHistory),
		key:      make([]byte, 32),
		streams:  make(chan struct{}, MaxStreams),
		done:     make(chan struct{}),
	}
	rand.Read(c.key)
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", c.auth(c.feedPage))
	m.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusSeeOther) })
	m.HandleFunc("GET /console/events", c.auth(c.events))
	m.HandleFunc("GET /console/connections/{id}", c.auth(c.connPage))
	m.HandleFunc("GET /console/trust", c.auth(c.trustPage))
	m.HandleFunc("GET /console/verify", c.auth(c.verifyForm))
	m.HandleFunc("POST /console/verify", c.auth(c.verifyChain))
	m.HandleFunc("GET /console/login", c.loginForm)
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("POST /console/logout", c.logout)
	m.HandleFunc("GET /console/static/{file}", c.static)
	c.mux = m
	srv.SetObserver(c)
	return c
}

// Close ends every open feed stream and refuses new ones. It does not
// detach the observer.
func (c *Console) Close() {
	c.closeOnce.Do(func() { close(c.done) })
}

// ServeHTTP serves the console's paths and hands the others to next.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/console/") {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		c.mux.ServeHTTP(w, r)
		return
	}
	c.next.ServeHTTP(w, r)
}

// ObserveConnection keeps v in the connection history (server.Observer).
func (c *Console) ObserveConnection(v server.Verdict, _ *tlsterm.Result) { c.conns.put(&v) }

// ObserveRequest keeps a summary of rec in the request history.
func (c *Console) ObserveRequest(rec *logfmt.AccessRecord) {
	q := request{
		Time: rec.Time, Type: rec.Type, ConnTraceID: rec.ConnTraceID, TraceID: rec.TraceID,
		Method: clip(rec.Method), Host: clip(rec.Host), URI: clip(rec.URI), Proto: rec.Proto,
		ELBStatus: rec.ELBStatus, TargetStatus: rec.TargetStatus, Actions: rec.ActionsExecuted, Target: rec.Target,
		ErrorReason: rec.ErrorReason, Rule: rec.MatchedRulePriority, Received: rec.ReceivedBytes, Sent: rec.SentBytes,
		RequestProcessing: rec.RequestProcessing, TargetProcessing: rec.TargetProcessing, ResponseProcessing: rec.ResponseProcessing,
		UserAgent: clip(rec.UserAgent),
	}
	c.requests.put(&q)
}

// request is one access-log record as the console keeps it.
type request struct {
	Time                                                    time.Time
	Type, ConnTraceID, TraceID                              string
	Method, Host, URI, Proto                                string
	ELBStatus, TargetStatus                                 int
	Actions, Target, ErrorReason                            string
	Rule                                                    int
	Received, Sent                                          int64
	RequestProcessing, TargetProcessing, ResponseProcessing time.Duration
	UserAgent                                               string
}

// maxField bounds the strings the request history keeps, so it holds no
// more than a few MB whatever clients send.
const maxField = 256

// clip returns s, or a copy of its first maxField bytes: a long
// substring would keep a whole request's memory alive.
func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	return strings.Clone(s[:maxField]) + "…"
}

// token returns the admin token in force, "" for none.
func (c *Console) token() string {
	if c.o.Token == nil {
		return ""
	}
	return c.o.Token()
}

// maxEnded bounds the signed-out sessions remembered.
const maxEnded = 4096

// newSession is a cookie value proving the browser knew token: a random
// session id and a MAC of the id and the token, so that a rotated token
// ends the session and Sign out can end this one alone.
func (c *Console) newSession(token string) string {
	id := make([]byte, 16)
	rand.Read(id)
	sid := base64.RawURLEncoding.EncodeToString(id)
	return sid + "." + c.sessionMAC(sid, token)
}

func (c *Console) sessionMAC(sid, token string) string {
	c.sessMu.Lock()
	m := hmac.New(sha256.New, c.key)
	c.sessMu.Unlock()
	m.Write([]byte(sid))
	m.Write([]byte{0})
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionID returns the id of a cookie value made for token and not
// signed out; ok is false otherwise.
func (c *Console) sessionID(v, token string) (sid string, ok bool) {
	sid, mac, found := strings.Cut(v, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(c.sessionMAC(sid, token))) {
		return "", false
	}
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	return sid, !c.ended[sid]
}

// endSession signs the session sid out.
func (c *Console) endSession(sid string) {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	if len(c.ended) >= maxEnded {
		key := make([]byte, 32)
		rand.Read(key)
		c.key, c.ended = key, nil
		return
	}
	if c.ended == nil {
		c.ended = map[string]bool{}
	}
	c.ended[sid] = true
}

// authorized tells whether r carries the token: the Bearer header (as the
// admin API takes it) or a session cookie made for the token in force.
func (c *Console) authorized(r *http.Request) bool {
	tok := c.token()
	if tok == "" {
		return true
	}
	if h := r.Header.Get("Authorization"); h != "" {
		return subtle.ConstantTimeCompare([]byte(h), []byte("Bearer "+tok)) == 1
	}
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return false
	}
	_, ok := c.sessionID(ck.Value, tok)
	return ok
}

// auth wraps a console handler with the token rule. A GET with
// ?token=TOKEN sets the session cookie and redirects to the same page
// without the token (so it stays out of history and logs); a POST
// authenticated by the cookie must come from the console's own pages.
func (c *Console) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Has("token") && r.Method == http.MethodGet {
			tok := c.token()
			if tok != "" && subtle.ConstantTimeCompare([]byte(q.Get("token")), []byte(tok)) != 1 {
				c.unauthorized(w, r, "wrong token")
				return
			}
			c.setSession(w, tok)
			q.Del("token")
			u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
		if !c.authorized(r) {
			c.unauthorized(w, r, "")
			return
		}
		if r.Method == http.MethodPost && r.Header.Get("Authorization") == "" && !sameOrigin(r) {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

// sameOrigin rejects a browser request whose Origin is another site.
// SameSite=Strict already keeps the cookie off such requests; this holds
// when no token is set and there is no cookie at all.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (c *Console) setSession(w http.ResponseWriter, tok string) {
	if tok == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: c.newSession(tok), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// unauthorized answers a browser with the login form and a program as
// the admin API does.
func (c *Console) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="edge admin"`)
	if wantsHTML(r) {
		next := r.URL.Path
		if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
			next = "/"
		}
		c.render(w, http.StatusUnauthorized, "login.html", loginData{Error: msg, Next: next})
		return
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"Code": "Unauthorized", "Message": "send Authorization: Bearer <admin.token>, or open /?token=<admin.token> in a browser"})
}

type loginData struct {
	Error string
	Next  string
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "login.html", loginData{Next: "/"})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	tok := c.token()
	next := r.PostFormValue("next")
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	if tok != "" && subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(tok)) != 1 {
		c.render(w, http.StatusUnauthorized, "login.html", loginData{Error: "wrong token", Next: next})
		return
	}
	c.setSession(w, tok)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(CookieName); err == nil {
		if sid, ok := c.sessionID(ck.Value, c.token()); ok {
			c.endSession(sid) // the cookie's value stops working, wherever it was copied
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// wantsHTML tells a browser navigation from a program.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
