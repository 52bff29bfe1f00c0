#!/usr/bin/env bash
# Side-by-side proxy benchmark, all on 127.0.0.1: wrk against the server directly, against nginx as
# a reverse proxy with upstream keep-alive, and against Berth, one after the other in one run. When
# BERTH_BEFORE_DIST names another build of Berth, that build is measured too.
#
#   npm run build && bash bench/proxy.sh
#   DURATION=10s CONNECTIONS=64 BERTH_BEFORE_DIST=/tmp/berth-before/dist ROUNDS=4 bash bench/proxy.sh
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
BERTH_PID=$!
BEFORE_PID=
if [[ -n ${BERTH_BEFORE_DIST:-} ]]; then
  start_berth "$BEFORE" "$BERTH_BEFORE_DIST"
  BEFORE_PID=$!
fi
sleep 1.5

# User plus system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # label port [pid of the proxy, for its CPU time per request]
  local out ticks_before=0 ticks_after=0
  curl -fsS -o /dev/null "http://127.0.0.1:$2/" # the route works before it is measured
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$2/" >/dev/null # warm-up
  [[ -n ${3:-} ]] && ticks_before=$(cpu_ticks "$3")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/")
  [[ -n ${3:-} ]] && ticks_after=$(cpu_ticks "$3")
  local rps p99 errors requests cpu=-
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  # CPU time per request separates two builds better than requests/s when other work shares the cores.
  if [[ -n ${3:-} ]]; then
    cpu=$(awk -v ticks=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.1f", ticks / hz * 1e6 / n }')
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$rps" "$p99" "$cpu" "${errors:-none}" >>"$WORK/results.tsv"
}

run direct "$BACKEND"
run nginx "$NGINX"
# With a "before" build, the two builds take turns for ROUNDS rounds and swap places each round, so
# neither always runs first or second on a shared machine.
for ((round = 1; round <= ${ROUNDS:-1}; round++)); do
  if [[ -z ${BERTH_BEFORE_DIST:-} ]]; then
    run berth "$BERTH" "$BERTH_PID"
  elif ((round % 2 == 1)); then
    run berth "$BERTH" "$BERTH_PID"
    run berth-before "$BEFORE" "$BEFORE_PID"
  else
    run berth-before "$BEFORE" "$BEFORE_PID"
    run berth "$BERTH" "$BERTH_PID"
  fi
done

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, node $(node --version), $(nginx -v 2>&1 | sed 's/.*\///')"
awk -F'\t' '
  NR == 1 { direct = $2 } $1 == "nginx" { nginx = $2 }
  { rows[NR] = $0; rps[NR] = $2 }
  END {
    printf "%-13s %12s %10s %10s %10s %12s  %s\n", "target", "requests/s", "p99", "/direct", "/nginx", "CPU us/req", "errors"
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, "\t")
      printf "%-13s %12.0f %10s %9.2fx %9.2fx %12s  %s\n", f[1], f[2], f[3], f[2] / direct, f[2] / nginx, f[4], f[5]
    }
  }' "$WORK/results.tsv"
