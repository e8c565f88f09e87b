package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"

	"edge/internal/truststore"
)

//go:embed assets
var assets embed.FS

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(timeFormat)
	},
	"ms": func(d time.Duration) string {
		if d < 0 {
			return "-1"
		}
		return fmt.Sprintf("%.3f", d.Seconds())
	},
	"failed": func(status string) bool { return len(status) > 7 && status[:7] == "Failed:" },
}

// pages are parsed once, each with the layout and the shared partials.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	names, err := fs.Glob(assets, "assets/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/partials.html", n))
	}
	return out
}()

// page is what the layout needs besides the page's own data.
type page struct {
	Title string
	Nav   string
	Data  any
}

func (c *Console) render(w http.ResponseWriter, status int, name string, data any) {
	title, nav := titles[name][0], titles[name][1]
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout.html", page{Title: title, Nav: nav, Data: data}); err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// renderFragment writes one named template of a page alone (no layout).
func (c *Console) renderFragment(w http.ResponseWriter, name, block string, data any) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, block, data); err != nil {
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

var titles = map[string][2]string{
	"feed.html":   {"Connections", "feed"},
	"conn.html":   {"Connection", "feed"},
	"trust.html":  {"Trust stores and listeners", "trust"},
	"verify.html": {"Verify a chain", "verify"},
	"login.html":  {"Sign in", ""},
}

var staticTypes = map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ct, ok := staticTypes[path.Ext(name)]
	data, err := assets.ReadFile("assets/" + name)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}

// StoreVerdict is one trust store's verdict on a chain (VerifyAll).
type StoreVerdict struct {
	// Store is the trust store's name; Listeners the verify-mode
	// listeners that use it ("#0", ...).
	Store       string
	Listeners   []string
	Explanation *truststore.Explanation
}
