#!/usr/bin/env bash
# Serving benchmark: feedsift (release build, populated store) against nginx serving the exact
# same bytes, measured in the same run with `wrk -t2 -c64 --latency` on loopback:
#   200   plain GET of one topic's RSS feed (~100 KB)
#   304   GET with If-None-Match: <the server's own ETag>
#   gzip  Accept-Encoding: gzip; nginx with gzip_static on a precompressed copy (feedsift's own
#         gzip bytes) and nginx compressing on the fly (gzip on, default level 1)
# feedsift's cached-path runs are kept inside one wall-clock minute; one more 200 run crosses
# a minute boundary on purpose and reports how many renders the cache did during it (a
# regression check: the render cache once was keyed by the minute; now it renders again only
# when the store changes or an item leaves the window, so the count should be 0).
# Prints requests/s, p50 and p99 for each, and feedsift/nginx ratios. Figures are only
# comparable as ratios within one run: this machine is shared and noisy.
#
# Usage: scripts/bench-serve.sh           (15 s per wrk run, 7 runs)
#        DURATION=3s scripts/bench-serve.sh   (quick run)
# Env:   DURATION (wrk -d, in seconds: "15s"), CONNECTIONS (wrk -c, 64), LIMIT (topic items, 80 gives ~100 KB),
#        STORIES (store size, 5000), BIN (default target/release/feedsift), KEEP=1 keeps the
#        temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
LIMIT=${LIMIT:-80}
STORIES=${STORIES:-5000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/feedsift}
GEN=$TARGET/release/examples/gen_store

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null
fi
cargo build --release --quiet --bin feedsift --example gen_store

WORK=$(mktemp -d)
chmod 755 "$WORK" # nginx workers run as nobody
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# --- feedsift with a store of STORIES stories from the last 30 days -----------------------
"$GEN" "$WORK/data" "$STORIES" 30 60 >/dev/null
fs_port=$(free_port)
{
  printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "data"\n\n' "$fs_port"
  sed "s/@LIMIT@/$LIMIT/" scripts/bench/serve-topic.toml
} > "$WORK/feeds.toml"
"$BIN" --config "$WORK/feeds.toml" serve 2> "$WORK/feedsift.log" &
PIDS+=($!)
fs="http://127.0.0.1:$fs_port/t/bench.rss"
wait_http "$fs"

# --- nginx serving the same bytes -----------------------------------------------------------
mkdir -p "$WORK/www/static" "$WORK/www/dynamic" "$WORK/nginx"
curl -sf -o "$WORK/www/static/feed.rss" "$fs"
curl -sf -H 'Accept-Encoding: gzip' -o "$WORK/www/static/feed.rss.gz" "$fs"
cp "$WORK/www/static/feed.rss" "$WORK/www/dynamic/feed.rss"
fs_etag=$(curl -sf -D - -o /dev/null "$fs" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')
fs_gz_etag=$(curl -sf -D - -o /dev/null -H 'Accept-Encoding: gzip' "$fs" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')
ng_port=$(free_port)
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  types { application/rss+xml rss; }
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ng_port;
    root $WORK/www;
    location /static/ { gzip_static on; gzip_vary on; }
    location /dynamic/ { gzip on; gzip_types application/rss+xml; gzip_min_length 0; gzip_vary on; }
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
PIDS+=($!)
ng="http://127.0.0.1:$ng_port"
wait_http "$ng/static/feed.rss"
ng_etag=$(curl -sf -D - -o /dev/null "$ng/static/feed.rss" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')

# --- sanity: same bytes, right statuses and codings ------------------------------------------
check() { # name expected-status expected-encoding curl-args...
  local name=$1 status=$2 enc=$3; shift 3
  local got
  got=$(curl -s -o "$WORK/check.body" -D "$WORK/check.head" -w '%{http_code}' "$@")
  local coding
  coding=$(awk -F': ' 'tolower($1) == "content-encoding" {print $2}' "$WORK/check.head" | tr -d '\r')
  [ "$got" = "$status" ] && [ "$coding" = "$enc" ] ||
    { echo "check $name: status $got coding '$coding', expected $status '$enc'" >&2; exit 1; }
}
check "feedsift 200" 200 "" "$fs"
cmp -s "$WORK/check.body" "$WORK/www/static/feed.rss"
check "nginx 200" 200 "" "$ng/static/feed.rss"
cmp -s "$WORK/check.body" "$WORK/www/static/feed.rss"
check "feedsift 304" 304 "" -H "If-None-Match: $fs_etag" "$fs"
check "nginx 304" 304 "" -H "If-None-Match: $ng_etag" "$ng/static/feed.rss"
check "feedsift gzip" 200 gzip -H 'Accept-Encoding: gzip' "$fs"
check "nginx gzip_static" 200 gzip -H 'Accept-Encoding: gzip' "$ng/static/feed.rss"
cmp -s "$WORK/check.body" "$WORK/www/static/feed.rss.gz"
check "nginx gzip on the fly" 200 gzip -H 'Accept-Encoding: gzip' "$ng/dynamic/feed.rss"
feed_bytes=$(stat -c %s "$WORK/www/static/feed.rss")
gz_bytes=$(stat -c %s "$WORK/www/static/feed.rss.gz")
[ "$fs_gz_etag" != "$fs_etag" ] || { echo "gzip and identity share an ETag" >&2; exit 1; }

# --- wrk ----------------------------------------------------------------------------------------
# Prints "req/s p50_ms p99_ms timeouts" for one run (wrk leaves timed-out requests out of its
# latency distribution).
run_wrk() {
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" > "$WORK/wrk.out" 2>&1
  grep -E "Non-2xx|Socket errors" "$WORK/wrk.out" | sed "s/^ */  $CURRENT: /" >&2 || true
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /Socket errors/ { sub(/.*timeout /, ""); timeouts = $0 + 0 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, timeouts }' "$WORK/wrk.out"
}
# Runs of the cached path are kept inside one minute; the "minute boundary" run crosses one on
# purpose (see the header).
seconds=${DURATION%s}
in_one_minute() {
  local sec
  sec=$((10#$(date +%S)))
  if [ $((sec + seconds + 2)) -gt 59 ] && [ "$seconds" -le 45 ]; then sleep $((61 - sec)); fi
  return 0
}
cross_minute() {
  local sec
  sec=$((10#$(date +%S)))
  local start=$((60 - seconds / 2))
  if [ "$sec" -lt "$start" ]; then sleep $((start - sec)); else sleep $((60 - sec + start)); fi
}
misses() { curl -sf "http://127.0.0.1:$fs_port/metrics" | awk '/render_cache_total\{result="miss"\}/ {print $2}'; }
declare -A R M
measure() { # key wrk-args...
  local key=$1; shift
  local before
  if [[ $key == fs* ]]; then
    if [ "$key" = fsedge ]; then cross_minute; else in_one_minute; fi
    curl -sf -o /dev/null "$fs" # the render of this minute, before the run
    before=$(misses)
  fi
  CURRENT=$key
  R[$key]=$(run_wrk "$@")
  if [[ $key == fs* ]]; then M[$key]=$(($(misses) - before)); fi
}
echo "running 8 wrk runs of $DURATION each ..." >&2
measure ng200 "$ng/static/feed.rss"
measure fs200 "$fs"
measure ng304 -H "If-None-Match: $ng_etag" "$ng/static/feed.rss"
measure fs304 -H "If-None-Match: $fs_etag" "$fs"
measure nggz -H 'Accept-Encoding: gzip' "$ng/static/feed.rss"
measure fsgz -H 'Accept-Encoding: gzip' "$fs"
measure ngfly -H 'Accept-Encoding: gzip' "$ng/dynamic/feed.rss"
measure fsedge "$fs"

field() { echo "${R[$1]}" | cut -d' ' -f"$2"; }
ratio() { echo "$1 / $2" | bc -l; }
row() { # label key
  local renders=""
  [ -n "${M[$2]:-}" ] && renders="   (renders during run: ${M[$2]})"
  [ "$(field "$2" 4)" != 0 ] && renders="$renders   ($(field "$2" 4) requests timed out after 2 s, not in p99)"
  printf '%-40s %8s req/s   p50 %8s ms   p99 %8s ms%s\n' "$1" "$(field "$2" 1)" "$(field "$2" 2)" "$(field "$2" 3)" "$renders"
}
echo
echo "== serve: one RSS feed of $feed_bytes bytes ($gz_bytes gzipped), wrk -t2 -c$CONNECTIONS -d$DURATION, loopback"
row "nginx    200 (static file)" ng200
row "feedsift 200" fs200
row "nginx    304 (If-None-Match)" ng304
row "feedsift 304 (If-None-Match)" fs304
row "nginx    gzip_static (precompressed)" nggz
row "feedsift gzip (compressed per render)" fsgz
row "nginx    gzip on the fly (level 1)" ngfly
row "feedsift 200 across a minute boundary" fsedge
echo
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo MISSED; fi; }
r200=$(ratio "$(field fs200 1)" "$(field ng200 1)")
p200=$(ratio "$(field fs200 3)" "$(field ng200 3)")
r304=$(ratio "$(field fs304 1)" "$(field ng304 1)")
p304=$(ratio "$(field fs304 3)" "$(field ng304 3)")
rgz=$(ratio "$(field fsgz 1)" "$(field nggz 1)")
pgz=$(ratio "$(field fsgz 3)" "$(field nggz 3)")
rfly=$(ratio "$(field fsgz 1)" "$(field ngfly 1)")
self304=$(ratio "$(field fs304 1)" "$(field fs200 1)")
printf 'ratio 200   feedsift/nginx req/s %5.2fx (target >= 0.8: %s)   p99 %5.2fx (target <= 1.5: %s)\n' \
  "$r200" "$(verdict "$r200 >= 0.8")" "$p200" "$(verdict "$p200 <= 1.5")"
printf 'ratio 304   feedsift/nginx req/s %5.2fx                        p99 %5.2fx\n' "$r304" "$p304"
printf 'ratio gzip  feedsift/nginx gzip_static req/s %5.2fx (target >= 0.8: %s)   p99 %5.2fx (target <= 1.5: %s)\n' \
  "$rgz" "$(verdict "$rgz >= 0.8")" "$pgz" "$(verdict "$pgz <= 1.5")"
printf 'ratio gzip  feedsift/nginx on-the-fly req/s %5.2fx\n' "$rfly"
printf 'feedsift    304 req/s / 200 req/s %5.2fx (target >= 1: %s)\n' "$self304" "$(verdict "$self304 >= 1")"
redge=$(ratio "$(field fsedge 1)" "$(field ng200 1)")
pedge=$(ratio "$(field fsedge 3)" "$(field ng200 3)")
printf 'ratio 200 across a minute boundary: feedsift/nginx req/s %5.2fx   p99 %5.2fx\n' "$redge" "$pedge"
