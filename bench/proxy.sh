#!/usr/bin/env bash
# Side-by-side proxy benchmark, all on 127.0.0.1: wrk against the server directly, against nginx as
# a reverse proxy with upstream keep-alive, and against Berth, one after the other in one run. When
# BERTH_BEFORE_DIST names another build of Berth, that build is measured too.
#
#   npm run build && bash bench/proxy.sh
#   DURATION=10s CONNECTIONS=64 BERTH_BEFORE_DIST=/tmp/berth-before/dist bash bench/proxy.sh
#
# Needs nginx and wrk (apt-get install -y nginx wrk). The backend is nginx answering a fixed
# 13-byte body; nginx and Berth each get one worker process, so both proxies use one core.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f $WORK/nginx.pid ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

BACKEND=$(free_port); NGINX=$(free_port); BERTH=$(free_port); BEFORE=$(free_port)

cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$BACKEND; keepalive 64; }
  server { listen 127.0.0.1:$BACKEND; location / { return 200 "hello, world\n"; } }
  server {
    listen 127.0.0.1:$NGINX;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
nginx -c "$WORK/nginx.conf" -p "$WORK"

start_berth() { # port dist
  BERTH_BENCH_PORT=$1 BERTH_BENCH_SERVER=http://127.0.0.1:$BACKEND BERTH_BENCH_DIST=$2 node "$ROOT/bench/proxy-berth.mjs" &
  PIDS+=($!)
}
start_berth "$BERTH" "$ROOT/dist"
[[ -n ${BERTH_BEFORE_DIST:-} ]] && start_berth "$BEFORE" "$BERTH_BEFORE_DIST"
sleep 1.5

run() { # label port
  local out
  curl -fsS -o /dev/null "http://127.0.0.1:$2/" # the route works before it is measured
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$2/" >/dev/null # warm-up
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/")
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  printf '%s\t%s\t%s\t%s\n' "$1" "$rps" "$p99" "${errors:-none}" >>"$WORK/results.tsv"
}

run direct "$BACKEND"
run nginx "$NGINX"
run berth "$BERTH"
[[ -n ${BERTH_BEFORE_DIST:-} ]] && run berth-before "$BEFORE"

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, node $(node --version), $(nginx -v 2>&1 | sed 's/.*\///')"
awk -F'\t' '
  NR == 1 { direct = $2 } $1 == "nginx" { nginx = $2 }
  { rows[NR] = $0; rps[NR] = $2 }
  END {
    printf "%-13s %12s %10s %10s %10s  %s\n", "target", "requests/s", "p99", "/direct", "/nginx", "errors"
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, "\t")
      printf "%-13s %12.0f %10s %9.2fx %9.2fx  %s\n", f[1], f[2], f[3], f[2] / direct, f[2] / nginx, f[4]
    }
  }' "$WORK/results.tsv"
