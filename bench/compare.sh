#!/usr/bin/env bash
# bench/compare.sh — edge, nginx and HAProxy side by side doing the same job:
# TLS 1.2+1.3 with the same server certificate, client certificates verified
# against the same CA bundle and CRLs, a fixed 200, access logging to a file.
# Servers are pinned to CPU 0 and the load generator (edge bench) to CPU 1.
# Every scenario runs for DUR seconds, servers alternating (A B C A B C ...),
# ROUNDS times. Scenarios are grouped so that what is compared runs close
# in time (a shared machine drifts by ±15 % over minutes): each round runs
# handshakes and keep-alive on the three servers back to back, then each
# server's no-CRL and 1M-CRL handshakes back to back, then the idle
# connections. docs/benchmarks.md gets the medians of the values and, for
# ratios, the median over rounds of each round's ratio.
#
#   bench/compare.sh            # DUR=10 ROUNDS=3 CONC=64
#   DUR=5 ROUNDS=1 bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-64}
IDLE=${IDLE:-10000}
W=$(mktemp -d /tmp/edge-compare.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v haproxy >/dev/null || need+=(haproxy)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SRV_CPU="taskset -c 0"; GEN_CPU="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { SRV_CPU=""; GEN_CPU=""; }

echo "building edge and the PKI in $W"
go build -o "$W/edge" ./cmd/edge
E="$W/edge"
(cd "$W" && "$E" pki init --dir pki >/dev/null && "$E" pki crl --dir pki --ca root >/dev/null && "$E" pki crl --dir pki --ca intermediate >/dev/null)
go run ./bench/bigcrl --ca "$W/pki/intermediate" --n 1000000 --out "$W/pki/big.crl.pem"
P=$W/pki
cp "$P/server-fullchain.pem" "$P/fullchain.pem"
cat "$P/fullchain.pem" "$P/server.key" > "$P/haproxy.pem"
cat "$P/root.crl.pem" "$P/intermediate.crl.pem" > "$P/crls.pem"
cat "$P/root.crl.pem" "$P/big.crl.pem" > "$P/crls-big.pem"

# configs: $1 = CRL set (crls or crls-big)
edge_conf() {
  local crl1=root.crl.pem crl2=intermediate.crl.pem
  [ "$1" = crls-big ] && crl2=big.crl.pem
  cat > "$W/edge.yaml" <<CONF
name: compare
logs: {connection: "file:$W/edge-conn.log", access: "file:$W/edge-access.log"}
trust_stores:
  - {name: s, ca_certificates_bundle: $P/bundle.pem, revocations: [$P/$crl1, $P/$crl2], max_revocation_entries: 2000000}
listeners:
  - port: 9443
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: $P/server.pem, private_key: $P/server.key, certificate_chain: $P/server-chain.pem}]
    mutual_authentication: {mode: verify, trust_store: s}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", content_type: text/plain, message_body: ok}}]
CONF
}
nginx_conf() {
  mkdir -p "$W/nginx-tmp"
  cat > "$W/nginx.conf" <<CONF
worker_processes 1;
user root;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
worker_rlimit_nofile 19000;
events { worker_connections 18000; }
http {
  client_body_temp_path $W/nginx-tmp; proxy_temp_path $W/nginx-tmp; fastcgi_temp_path $W/nginx-tmp; uwsgi_temp_path $W/nginx-tmp; scgi_temp_path $W/nginx-tmp;
  access_log $W/nginx-access.log;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:9444 ssl;
    ssl_certificate $P/fullchain.pem;
    ssl_certificate_key $P/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate $P/bundle.pem;
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_crl $P/$1.pem;
    ssl_session_tickets off;
    ssl_session_cache off;
    location / { default_type text/plain; return 200 "ok"; }
  }
}
CONF
}
haproxy_conf() {
  cat > "$W/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 9990
  ulimit-n 20000
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  timeout client 60s
  timeout connect 5s
  timeout server 60s
frontend fe
  bind 127.0.0.1:9445 ssl crt $P/haproxy.pem ca-file $P/bundle.pem crl-file $P/$1.pem verify required no-tls-tickets ssl-min-ver TLSv1.2
  http-request return status 200 content-type text/plain string ok
CONF
}

PIDS=""
start() { # server crlset
  case $1 in
    edge) edge_conf "$2"; $SRV_CPU "$E" serve -c "$W/edge.yaml" 2>"$W/edge.err" & PIDS=$!; PORT=9443 ;;
    nginx) nginx_conf "$2"; $SRV_CPU nginx -c "$W/nginx.conf" 2>"$W/nginx.err" & PIDS=$!; PORT=9444 ;;
    haproxy) haproxy_conf "$2"; $SRV_CPU haproxy -f "$W/haproxy.cfg" > "$W/haproxy-access.log" 2>"$W/haproxy.err" & PIDS=$!; PORT=9445 ;;
  esac
  for _ in $(seq 50); do
    if "$E" bench --target 127.0.0.1:$PORT --mode handshake --concurrency 1 --duration 100ms --cert "$P/client-fullchain.pem" --key "$P/client.key" 2>/dev/null | grep -q "HTTP 200"; then
      # nginx: count the master and its workers
      [ "$1" = nginx ] && PIDS="$PIDS $(pgrep -P "$PIDS" | tr '\n' ' ')"
      return 0
    fi
    sleep 0.2
  done
  echo "$1 did not come up" >&2; exit 1
}
stop() {
  case $1 in
    nginx) kill -QUIT ${PIDS%% *} 2>/dev/null || true ;;
    *) kill -TERM $PIDS 2>/dev/null || true ;;
  esac
  wait 2>/dev/null || true
  sleep 0.5
}
cputicks() { local t=0; for p in $PIDS; do set -- $(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + $1 + $2)); done; echo $t; }
rsskb() { local t=0; for p in $PIDS; do t=$((t + $(awk '/VmRSS/{print $2}' "/proc/$p/status"))); done; echo $t; }
load() { # mode
  $GEN_CPU "$E" bench --target 127.0.0.1:$PORT --mode "$1" --concurrency "$CONC" --duration "${DUR}s" --cert "$P/client-fullchain.pem" --key "$P/client.key" --format json
}

RES=$W/results.jsonl
record() { # server scenario extra-json result-json
  echo "{\"round\":$round,\"server\":\"$1\",\"scenario\":\"$2\",$3\"result\":$4}" >> "$RES"
}
for round in $(seq "$ROUNDS"); do
  for srv in edge nginx haproxy; do
    echo "round $round: $srv handshake, keep-alive"
    start $srv crls
    c0=$(cputicks); out=$(load handshake); c1=$(cputicks)
    record $srv handshake "\"cpu_ticks\":$((c1 - c0))," "$out"
    out=$(load keepalive)
    record $srv keepalive "" "$out"
    stop $srv
  done
  for srv in edge nginx haproxy; do
    echo "round $round: $srv handshakes without and with the 1M-entry CRL"
    start $srv crls
    record $srv handshake-crl-base "" "$(load handshake)"
    stop $srv
    start $srv crls-big
    record $srv handshake-crl1m "" "$(load handshake)"
    stop $srv
  done
  for srv in edge nginx haproxy; do
    echo "round $round: $srv $IDLE idle connections"
    start $srv crls
    "$E" bench --target 127.0.0.1:$PORT --mode idle --connections "$IDLE" --hold 6s --concurrency 32 --cert "$P/client-fullchain.pem" --key "$P/client.key" --format json > "$W/idle.json" &
    bp=$!; sleep 1
    peak=0; while kill -0 $bp 2>/dev/null; do r=$(rsskb); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5; done
    record $srv idle "\"rss_kb\":$peak," "$(cat "$W/idle.json")"
    stop $srv
  done
done

python3 - "$RES" "$ROOT/docs/benchmarks.md" "$DUR" "$ROUNDS" "$CONC" "$IDLE" <<'PY'
import json, os, statistics, sys, subprocess, platform
res, doc, dur, rounds, conc, idle = sys.argv[1], sys.argv[2], *sys.argv[3:]
rows = [json.loads(l) for l in open(res)]
hz = os.sysconf("SC_CLK_TCK")
# Per-round values of each metric: {metric: {server: {round: value}}}.
metrics = {
    "cpu_us": ("handshake", lambda r: r["cpu_ticks"] / hz / max(r["result"]["operations"], 1) * 1e6),
    "hs": ("handshake", lambda r: r["result"]["rate_per_s"]),
    "p99": ("handshake", lambda r: r["result"]["p99_ns"] / 1e6),
    "ka": ("keepalive", lambda r: r["result"]["rate_per_s"]),
    "kap99": ("keepalive", lambda r: r["result"]["p99_ns"] / 1e6),
    "rss": ("idle", lambda r: r["rss_kb"] / 1024),
    "open": ("idle", lambda r: r["result"].get("idle_connections_open", 0)),
    "crl": ("handshake-crl1m", lambda r: r["result"]["rate_per_s"]),
    "crlbase": ("handshake-crl-base", lambda r: r["result"]["rate_per_s"]),
}
v = {k: {s: {} for s in ("edge", "nginx", "haproxy")} for k in metrics}
for r in rows:
    for k, (scen, f) in metrics.items():
        if r["scenario"] == scen:
            v[k][r["server"]][r["round"]] = f(r)
# The 1M-CRL rate against the no-CRL rate measured just before it.
v["crl_ratio"] = {s: {n: v["crl"][s][n] / v["crlbase"][s][n] for n in v["crl"][s] if v["crlbase"][s].get(n)} for s in v["crl"]}
nan = float("nan")
med = lambda xs: statistics.median(xs) if xs else nan
value = lambda k, s: med(list(v[k][s].values()))
def ratio(k, a, b):
    # Median over rounds of the round's ratio.
    return med([v[k][a][n] / v[k][b][n] for n in v[k][a] if v[k][b].get(n)])
ver = lambda c: subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip() or subprocess.run(c, shell=True, capture_output=True, text=True).stderr.strip()
cpu = ver("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
vgo, vng, vha, vssl = ver("go version"), ver("nginx -v 2>&1"), ver("haproxy -v | head -1"), ver("openssl version")
lines = ["<!-- compare.sh begin -->", "## edge vs nginx vs HAProxy (bench/compare.sh)", "",
 f"Machine: {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}. "
 f"{vgo}; {vng}; {vha}; {vssl}.",
 f"Command: `DUR={dur} ROUNDS={rounds} CONC={conc} IDLE={idle} bench/compare.sh`. Servers pinned to CPU 0 (one worker/thread each), the load generator (`edge bench`) to CPU 1;",
 "TLS 1.3, ECDSA P-256 keys, client chains verified against the same bundle and CRLs, a fixed 200, access log to a file.",
 "Values: medians of the rounds. Ratios: the median over rounds of that round's ratio (servers run back to back within a round).", "",
 "| metric | edge | nginx | HAProxy | edge/nginx | edge/HAProxy |", "|---|---|---|---|---|---|"]
def row(name, k, fmt):
    e, n, h = value(k, "edge"), value(k, "nginx"), value(k, "haproxy")
    lines.append(f"| {name} | {fmt.format(e)} | {fmt.format(n)} | {fmt.format(h)} | {ratio(k, 'edge', 'nginx'):.2f} | {ratio(k, 'edge', 'haproxy'):.2f} |")
row("server CPU per full mTLS handshake (µs, lower is better)", "cpu_us", "{:.0f}")
row("full mTLS handshakes/s (saturated)", "hs", "{:.0f}")
row("handshake p99 latency (ms)", "p99", "{:.1f}")
row("keep-alive requests/s", "ka", "{:.0f}")
row("keep-alive p99 latency (ms)", "kap99", "{:.2f}")
row(f"RSS with {idle} idle mTLS connections (MB, lower is better)", "rss", "{:.0f}")
row("handshakes/s with a 1,000,000-entry CRL", "crl", "{:.0f}")
row("1M-CRL handshake rate / no-CRL rate", "crl_ratio", "{:.2f}")
per_round = lambda k: ", ".join(f"{v[k]['edge'][n] / v[k]['nginx'][n]:.2f}" for n in sorted(v[k]["edge"]) if v[k]["nginx"].get(n))
lines += ["", f"Idle connections actually open: edge {value('open', 'edge'):.0f}, nginx {value('open', 'nginx'):.0f}, HAProxy {value('open', 'haproxy'):.0f}.",
 f"Per-round edge/nginx: keep-alive {per_round('ka')}; handshakes/s {per_round('hs')}; edge's 1M-CRL/no-CRL: " + ", ".join(f"{x:.2f}" for _, x in sorted(v['crl_ratio']['edge'].items())) + ".",
 "<!-- compare.sh end -->"]
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
b, e = text.find("<!-- compare.sh begin -->"), text.find("<!-- compare.sh end -->")
block = "\n".join(lines)
text = text[:b] + block + text[e + len("<!-- compare.sh end -->"):] if b >= 0 and e > b else text.rstrip() + "\n\n" + block + "\n"
open(doc, "w").write(text)
print(block)
PY
