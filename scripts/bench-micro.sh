#!/usr/bin/env bash
# Criterion benchmarks of the pure stages (benches/parse.rs, select.rs, render.rs), then one
# table of every result of this run: median time, entries/s, MB/s and the ratio to the
# same-run reference of each group (tokenizing the same bytes, cloning the same stories,
# serializing the same stories with serde_json). Compare runs by those ratios: this machine
# is shared and noisy.
#
# Usage: scripts/bench-micro.sh              (criterion defaults: ~3 s warm-up, 5 s per bench)
#        QUICK=1 scripts/bench-micro.sh      (1 s warm-up, 2 s per bench)
#        scripts/bench-micro.sh parse        (one bench file; criterion filters may follow)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-target}
BENCHES=(parse select render)
if [ $# -gt 0 ]; then BENCHES=("$1"); shift; fi
ARGS=("$@")
[ "${QUICK:-0}" = 1 ] && ARGS+=(--warm-up-time 1 --measurement-time 2)

since=$(date +%s)
for bench in "${BENCHES[@]}"; do
  cargo bench --quiet --bench "$bench" -- "${ARGS[@]}" > "$TARGET/bench-$bench.log" 2>&1 ||
    { cat "$TARGET/bench-$bench.log"; exit 1; }
  grep -E '^(listing|select over|render [0-9]+ items)' "$TARGET/bench-$bench.log" || true
done
echo
echo "== micro benchmarks ($(date -u +%FT%TZ)), medians; full criterion output in $TARGET/bench-*.log"
python3 scripts/bench/criterion_table.py "$TARGET/criterion" "$since"
