#!/usr/bin/env bash
# bench/regress.sh — edge at a base revision against edge at HEAD, side by
# side in one run: the same PKI, configuration (TLS 1.2+1.3, verify mode
# with CRLs, a fixed 200, access log to a file) and load generator (HEAD's
# edge bench). Servers are pinned to CPU 0, the load to CPU 1; each round
# runs base then HEAD back to back for handshakes (rate and server CPU per
# handshake) and keep-alive requests, ROUNDS times. Ratios are HEAD/base,
# the median over rounds of each round's ratio; docs/benchmarks.md gets
# the table.
#
#   BASE=aac1373 bench/regress.sh          # DUR=10 ROUNDS=3 CONC=64
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE=${BASE:?set BASE to the git revision to compare with, e.g. BASE=aac1373}
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-64}
W=$(mktemp -d /tmp/edge-regress.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; git worktree remove --force "$W/base-src" 2>/dev/null || true' EXIT
SRV_CPU="taskset -c 0"; GEN_CPU="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { SRV_CPU=""; GEN_CPU=""; }

echo "building edge at $BASE and at HEAD in $W"
git worktree add -q --detach "$W/base-src" "$BASE"
(cd "$W/base-src" && go build -o "$W/edge-base" ./cmd/edge)
go build -o "$W/edge-head" ./cmd/edge
E="$W/edge-head"
(cd "$W" && "$E" pki init --dir pki >/dev/null && "$E" pki crl --dir pki --ca root >/dev/null && "$E" pki crl --dir pki --ca intermediate >/dev/null)
P=$W/pki
cat > "$W/edge.yaml" <<CONF
name: regress
logs: {connection: "file:$W/conn.log", access: "file:$W/access.log"}
trust_stores:
  - {name: s, ca_certificates_bundle: $P/bundle.pem, revocations: [$P/root.crl.pem, $P/intermediate.crl.pem]}
listeners:
  - port: 9446
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: $P/server.pem, private_key: $P/server.key, certificate_chain: $P/server-chain.pem}]
    mutual_authentication: {mode: verify, trust_store: s}
    default_actions: [{type: fixed-response, fixed_response_config: {status_code: "200", content_type: text/plain, message_body: ok}}]
CONF
PID=""
start() { # binary
  $SRV_CPU "$1" serve -c "$W/edge.yaml" 2>"$W/serve.err" & PID=$!
  for _ in $(seq 50); do
    if "$E" bench --target 127.0.0.1:9446 --mode handshake --concurrency 1 --duration 100ms --cert "$P/client-fullchain.pem" --key "$P/client.key" 2>/dev/null | grep -q "HTTP 200"; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not come up:" >&2; cat "$W/serve.err" >&2; exit 1
}
stop() { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; sleep 0.5; }
cputicks() { set -- $(cut -d' ' -f14,15 "/proc/$PID/stat"); echo $(($1 + $2)); }
load() { $GEN_CPU "$E" bench --target 127.0.0.1:9446 --mode "$1" --concurrency "$CONC" --duration "${DUR}s" --cert "$P/client-fullchain.pem" --key "$P/client.key" --format json; }
RES=$W/results.jsonl
for round in $(seq "$ROUNDS"); do
  for v in base head; do
    echo "round $round: $v"
    start "$W/edge-$v"
    c0=$(cputicks); hs=$(load handshake); c1=$(cputicks)
    ka=$(load keepalive)
    echo "{\"round\":$round,\"v\":\"$v\",\"cpu_ticks\":$((c1 - c0)),\"hs\":$hs,\"ka\":$ka}" >> "$RES"
    stop
  done
done
python3 - "$RES" "$ROOT/docs/benchmarks.md" "$BASE" "$(git rev-parse --short HEAD)" "$DUR" "$ROUNDS" "$CONC" <<'PY'
import json, os, statistics, sys
res, doc, base, head, dur, rounds, conc = sys.argv[1:]
hz = os.sysconf("SC_CLK_TCK")
v = {}
for l in open(res):
    r = json.loads(l)
    m = v.setdefault(r["round"], {})
    m[r["v"]] = {"cpu": r["cpu_ticks"] / hz / max(r["hs"]["operations"], 1) * 1e6, "hs": r["hs"]["rate_per_s"], "ka": r["ka"]["rate_per_s"]}
med = statistics.median
def col(k, w): return med([m[w][k] for m in v.values()])
def rat(k): return [m["head"][k] / m["base"][k] for m in v.values()]
lines = ["<!-- regress.sh begin -->", f"## edge at HEAD against edge at {base} (bench/regress.sh)", "",
 f"Command: `BASE={base} DUR={dur} ROUNDS={rounds} CONC={conc} bench/regress.sh` at {head}. Both servers pinned to CPU 0 with the same PKI, configuration and load generator; base and HEAD back to back in every round.", "",
 f"| metric | {base} | HEAD | HEAD/{base} (median of rounds) | per round |", "|---|---|---|---|---|"]
for name, k, fmt in (("server CPU per full mTLS handshake (µs, lower is better)", "cpu", "{:.0f}"), ("full mTLS handshakes/s", "hs", "{:.0f}"), ("keep-alive requests/s", "ka", "{:.0f}")):
    rs = rat(k)
    lines.append(f"| {name} | {fmt.format(col(k, 'base'))} | {fmt.format(col(k, 'head'))} | {med(rs):.2f} | {', '.join(f'{x:.2f}' for x in rs)} |")
lines.append("<!-- regress.sh end -->")
text = open(doc).read()
b, e = text.find("<!-- regress.sh begin -->"), text.find("<!-- regress.sh end -->")
block = "\n".join(lines)
text = text[:b] + block + text[e + len("<!-- regress.sh end -->"):] if b >= 0 and e > b else text.rstrip() + "\n\n" + block + "\n"
open(doc, "w").write(text)
print(block)
PY
