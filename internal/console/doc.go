// Package console is edge's web console on the admin listener: a live feed
// of connection verdicts (server-sent events) where each failed handshake
// opens into the explanation `edge verify` gives and each successful one
// links to its requests, the trust stores (CA certificates as a tree, CRLs),
// the listeners, the resources created through the AWS endpoint, and a form
// that verifies a pasted chain against every trust store.
//
// The console observes the server (server.Observer) through bounded rings:
// publishing never blocks the handshake or request path, and a slow browser
// only misses events. Pages are html/template files embedded in the binary;
// the little JavaScript it has follows the feed. Authentication is the
// admin API's token: "Authorization: Bearer TOKEN" for programs, and for
// browsers a cookie set by /?token=TOKEN or the login form.
package console
