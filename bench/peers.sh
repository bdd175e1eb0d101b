#!/usr/bin/env bash
# Focal beside thumbor, sharp and the libvips floor, in one run of the peers' harness
# (../shared/bench-peers, its README): the reference for Focal's speed goals. About ten
# minutes; run nothing else meanwhile. Results: build/peers/focal.md and .jsonl.
#   bash bench/peers.sh                  every scenario at concurrency 4 and 16
#   SCENARIOS="a b d" CONCS=16 bash bench/peers.sh
set -euo pipefail
cd "${FOCAL_DIR:-$(dirname "$0")/..}"  # FOCAL_DIR: another checkout of Focal, to compare
HARNESS="${HARNESS:-$PWD/../shared/bench-peers}"
PORT="${PORT:-8810}"
OPTIONS='metadata=none,q=80'
BASE="http://127.0.0.1:$PORT/cdn-cgi/image"
mkdir -p build/peers
[ -d /tmp/peers/sharp ] || bash "$HARNESS/setup_peers.sh"
export PEERS="${PEERS:-custom thumbor sharp}" CONCS="${CONCS:-4 16}" REPEATS="${REPEATS:-1}"
export KEEPALIVE_CHECK="${KEEPALIVE_CHECK:-1}" CUSTOM_NAME=focal
export CUSTOM_CMD="cd $PWD && FOCAL_ORIGIN_DIR=$HARNESS/corpus FOCAL_DATA_DIR=/tmp/peers/focal-data FOCAL_RESULT_CACHE_BYTES=0 FOCAL_PORT=$PORT exec .venv/bin/focal serve"
export CUSTOM_HEALTH="http://127.0.0.1:$PORT/healthz"
export CUSTOM_URL_A="$BASE/fit=scale-down,w={w},h={h},f=baseline-jpeg,$OPTIONS/{file}"
export CUSTOM_URL_B="$BASE/fit=cover,w={w},h={h},f=baseline-jpeg,$OPTIONS/{file}"
export CUSTOM_URL_C="$BASE/fit=cover,gravity=face,w={w},h={h},f=baseline-jpeg,$OPTIONS/{file}"
export CUSTOM_URL_D="$BASE/fit=scale-down,w={w},h={h},f=webp,$OPTIONS/{file}"
export OUT="${OUT:-$PWD/build/peers/focal}"
bash "$HARNESS/run_peers.sh"
