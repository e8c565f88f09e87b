package server

import (
	"net"
	"path/filepath"
	"time"

	"edge/internal/attributes"
	"edge/internal/config"
	"edge/internal/logfmt"
)

// logs chooses each load balancer's log destinations. The default load
// balancer's are logs.connection / logs.access, or its
// connection_logs.s3.* / access_logs.s3.* attributes, which stand for
// dir:<logs.s3_root>/<bucket>/<prefix>; both may be given only when they
// name the same place. Another load balancer writes to the directories of
// its own s3 attributes (files named with its elb id), and otherwise
// shares the default's destinations: the same sink, its lines carrying its
// own elb id.
func (b *builder) logs() {
	def := b.snap.LoadBalancers[0]
	for _, l := range []struct {
		path string
		v    *string
		s3   attributes.S3Logs
		attr string
		dst  *logfmt.Destination
	}{
		{"logs.connection", b.cfg.Logs.Connection, def.Values.ConnectionLogs, "connection_logs.s3", &def.ConnLog},
		{"logs.access", b.cfg.Logs.Access, def.Values.AccessLogs, "access_logs.s3", &def.AccessLog},
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
		conn := l.path == "logs.connection"
		if l.s3.Enabled {
			s3 := b.s3Destination(l.s3, conn, def)
			if l.v != nil && (d.Kind != s3.Kind || d.Path != s3.Path) {
				b.at(l.path, "%s disagrees with the %s attributes (%s:%d), which write to %s: keep one", s, l.attr, b.cfg.File, b.cfg.Line("attributes."+l.attr+".enabled"), s3)
				continue
			}
			d = s3
		}
		d.Layout = b.layout(def, conn)
		*l.dst = d
	}
	for _, lb := range b.snap.LoadBalancers[1:] {
		lb.ConnLog, lb.AccessLog = def.ConnLog, def.AccessLog
		if s3 := lb.Values.ConnectionLogs; s3.Enabled {
			lb.ConnLog = b.s3Destination(s3, true, lb)
		}
		if s3 := lb.Values.AccessLogs; s3.Enabled {
			lb.AccessLog = b.s3Destination(s3, false, lb)
		}
	}
	b.snap.ConnLog, b.snap.AccessLog = def.ConnLog, def.AccessLog
}

// s3Destination is the directory standing for S3 bucket and prefix under
// logs.s3_root, in ALB's layout for lb.
func (b *builder) s3Destination(s3 attributes.S3Logs, conn bool, lb *LoadBalancer) logfmt.Destination {
	return logfmt.Destination{Kind: "dir", Path: filepath.Join(b.cfg.Path(b.cfg.Logs.S3Root), s3.Bucket, filepath.FromSlash(s3.Prefix)), Layout: b.layout(lb, conn)}
}

// layout is ALB's S3 key layout of lb's connection or access log files.
func (b *builder) layout(lb *LoadBalancer, conn bool) logfmt.DirLayout {
	return logfmt.DirLayout{
		Account: b.cfg.AccountID, Region: b.cfg.Region, ELB: lb.ELB, NodeIP: nodeIP(b.cfg),
		Connection: conn, Interval: time.Duration(b.cfg.Logs.RotationSeconds) * time.Second,
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
