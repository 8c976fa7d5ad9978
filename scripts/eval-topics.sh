#!/usr/bin/env bash
# Measures feedsift's topic curation (precision, recall, F1 per topic) on the labelled set in
# ../shared/eval/topics, by running the real binary against a local server that serves every
# item in its site's own wire format. A measurement, not a gate: exits 0 whatever the figures,
# non-zero only when the harness itself fails.
#
#   scripts/eval-topics.sh [FEEDSIFT_BINARY] [--config FILE] [--map LABEL=SLUG] [--json] ...
#
# The binary is $1 when it is not an option, else $FEEDSIFT_BIN, else a `cargo build --release`
# of this checkout. Everything after it goes to scripts/eval_topics.py (see its --help):
#   --config FILE        evaluate this config's topics (default: ./feeds.toml)
#   --map LABEL=SLUG     label -> topic slug when the slug differs (e.g. performance=systems-performance)
#   --label LABEL        evaluate only this label (repeatable)
#   --items FILE         labelled items (default ../shared/eval/topics/items.jsonl, or $FEEDSIFT_EVAL_ITEMS)
#   --half tune|check    score one fixed half of the set: tune rules on one, confirm on the other
#   --json               machine-readable summary on stdout
#   --verdicts FILE      every item's verdict per label as JSON lines, to study a rule change offline
# Environment: FEEDSIFT_EVAL_PRIVATE=1/0 forces `[defaults] allow_private_networks = true` on/off
# in the generated config (default: on exactly when the binary's `check` accepts the key);
# FEEDSIFT_EVAL_KEEP=1 keeps the temporary directory (config, store, feedsift.log) and prints it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bin=${FEEDSIFT_BIN:-}
if [[ $# -gt 0 && $1 != -* ]]; then
    bin=$1
    shift
fi
for arg in "$@"; do
    if [[ $arg == -h || $arg == --help ]]; then
        exec python3 "$repo/scripts/eval_topics.py" --feedsift feedsift --workdir /nonexistent --help
    fi
done
if [[ -z $bin ]]; then
    echo "eval-topics: building feedsift (cargo build --release)" >&2
    (cd "$repo" && nice cargo build --release --quiet --bin feedsift) >&2
    bin=$repo/target/release/feedsift
fi
if [[ ! -x $bin ]]; then
    echo "eval-topics: error: $bin is not an executable feedsift binary" >&2
    exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
# The embedding model for topics with `about`: the one scripts/fetch-model.sh installs, unless
# the caller points elsewhere (without it those topics fall back to their keywords).
if [ -z "${FEEDSIFT_MODEL_DIR:-}" ] && [ -f "$repo/target/model/all-MiniLM-L6-v2/model.safetensors" ]; then
  export FEEDSIFT_MODEL_DIR=$repo/target/model/all-MiniLM-L6-v2
fi

python3 -c 'import sys, tomllib; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "eval-topics: error: needs Python 3.11 or newer (tomllib)" >&2
    exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/feedsift-eval.XXXXXX")
py_pid=
cleanup() {
    local status=$?
    if [[ -n $py_pid ]] && kill -0 "$py_pid" 2>/dev/null; then
        kill "$py_pid" 2>/dev/null || true
        wait "$py_pid" 2>/dev/null || true
    fi
    if [[ ${FEEDSIFT_EVAL_KEEP:-0} == 1 ]]; then
        echo "eval-topics: kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The server runs inside the Python process (a thread on 127.0.0.1:<free port>) and stops with it.

python3 "$repo/scripts/eval_topics.py" --feedsift "$bin" --workdir "$work" "$@" &
py_pid=$!
set +e
wait "$py_pid"
status=$?
set -e
py_pid=
exit "$status"
