#!/usr/bin/env bash
# make demo: synthetic data → local services → one run of each process → where to look.
set -euo pipefail
N=${1:-60}; SEED=${2:-1}
source "$(dirname "$0")/env.sh"
cd "$CIVICFLOW_HOME"
echo "== 1. synthetic data (seed $SEED, $N e-applications)"
"$BIN/python" -m deployments.preflight  # PostgreSQL: create the databases first, if missing
"$BIN/civicflow" db upgrade
"$BIN/civicflow" samples generate --n "$N" --seed "$SEED" --staff "${STAFF:-150}" --assets "${ASSET_ROWS:-3000}"
# Handwritten bus-pass applications, "scanned" into the scanner's inbox (ground truth stays behind).
"$BIN/civicflow" samples scans --n "${SCANS:-20}" --seed "$SEED" --workers 2
mkdir -p "$CIVICFLOW_VAR_DIR/scans/inbox"
find "$CIVICFLOW_VAR_DIR/samples/scans" -maxdepth 1 -type f ! -name '*.json' -exec cp {} "$CIVICFLOW_VAR_DIR/scans/inbox/" \;
echo "== 2. local services"
bash deployments/up.sh
echo "== 3. run each process through its deployment (the worker runs them)"
"$BIN/python" -m deployments.demo_run
