package server

import (
	"net"
	"path/filepath"
	"time"

	"edge/internal/attributes"
	"edge/internal/config"
	"edge/internal/logfmt"
)

// logs chooses each log's destination: logs.connection / logs.access, or
// the connection_logs.s3.* / access_logs.s3.* attributes, which stand for
// dir:<logs.s3_root>/<bucket>/<prefix>. Both may be given only when they
// name the same place.
func (b *builder) logs() {
	for _, l := range []struct {
		path string
		v    *string
		s3   attributes.S3Logs
		attr string
		dst  *logfmt.Destination
	}{
		{"logs.connection", b.cfg.Logs.Connection, b.snap.LB.ConnectionLogs, "connection_logs.s3", &b.snap.ConnLog},
		{"logs.access", b.cfg.Logs.Access, b.snap.LB.AccessLogs, "access_logs.s3", &b.snap.AccessLog},
	} {
		s := "stdout"
		if l.v != nil {
			s = *l.v
		}
		d, err := logfmt.ParseDestination(s)
		if err != nil {
			b.atErr(err, l.path, "%v", err)
			continue
		}
		if d.Kind == "file" || d.Kind == "dir" {
			d.Path = b.cfg.Path(d.Path)
		}
		if l.s3.Enabled {
			s3 := logfmt.Destination{Kind: "dir", Path: filepath.Join(b.cfg.Path(b.cfg.Logs.S3Root), l.s3.Bucket, filepath.FromSlash(l.s3.Prefix))}
			if l.v != nil && d != s3 {
				b.at(l.path, "%s disagrees with the %s attributes (%s:%d), which write to %s: keep one", s, l.attr, b.cfg.File, b.cfg.Line("attributes."+l.attr+".enabled"), s3)
				continue
			}
			d = s3
		}
		d.Layout = logfmt.DirLayout{
			Account: b.cfg.AccountID, Region: b.cfg.Region, ELB: ELBID(b.cfg.Name), NodeIP: nodeIP(b.cfg),
			Connection: l.path == "logs.connection", Interval: time.Duration(b.cfg.Logs.RotationSeconds) * time.Second,
		}
		*l.dst = d
	}
}

// nodeIP is the address the log file names carry: the first listener's
// address when it is an IP, else 127.0.0.1.
func nodeIP(cfg *config.Config) string {
	for _, l := range cfg.Listeners {
		if ip := net.ParseIP(l.Address); ip != nil && !ip.IsUnspecified() {
			return ip.String()
		}
	}
	return "127.0.0.1"
}
