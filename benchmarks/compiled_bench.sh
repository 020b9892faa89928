#!/usr/bin/env bash
# The compiled hot path against the pure-Python build, granian and uvicorn, in one run of the
# shared compare tool (../shared/bench/compare.py), all serving the tool's raw ASGI app; then
# the framework (benchmarks/apps/transom_app.py on our server, both builds) against Starlette
# on granian. Run from the repository root, after `pip install -e .` has built the compiled
# modules (`transom --version` says so):
#   bash benchmarks/compiled_bench.sh [--rounds 3]        # servers, then frameworks
#   PART=servers bash benchmarks/compiled_bench.sh         # or PART=frameworks
#   BEFORE=<git revision> bash benchmarks/compiled_bench.sh   # also that revision's pure Python
# The pure build runs from a copy of src/ without the extension modules, put first on
# PYTHONPATH, so both builds are measured in the same run from the same sources.
set -eu
COMPARE=${COMPARE:-../shared/bench/compare.py}
PART=${PART:-all}
PY=.venv/bin/python
case "$($PY -m transom --version)" in
  *"compiled hot path"*) ;;
  *) echo "compiled_bench: the compiled build is not installed ($($PY -m transom --version))" >&2
     exit 2 ;;
esac
pure=$(mktemp -d)
trap 'rm -rf "$pure"' EXIT
tar -C src -c --exclude='*.so' --exclude='*.pyd' --exclude=__pycache__ transom | tar -C "$pure" -x
case "$(PYTHONPATH="$pure" $PY -m transom --version)" in
  *"pure Python"*) ;;
  *) echo "compiled_bench: the pure copy does not run pure" >&2; exit 2 ;;
esac
before=()
if [ -n "${BEFORE:-}" ]; then
  mkdir "$pure/before"
  git archive "$BEFORE" src/transom | tar -x -C "$pure/before"
  before=(--server "transom-before=PYTHONPATH=$pure/before/src:{bench} $PY -m transom run apps.raw_asgi:app --port {port} --no-access-log")
fi
if [ "$PART" = all ] || [ "$PART" = servers ]; then
  python3 "$COMPARE" \
    "${before[@]}" \
    --server "transom=PYTHONPATH={bench} $PY -m transom run apps.raw_asgi:app --port {port} --no-access-log" \
    --server "transom-pure=PYTHONPATH=$pure:{bench} $PY -m transom run apps.raw_asgi:app --port {port} --no-access-log" \
    --peer granian \
    --scenario "${SCENARIOS:-plaintext,json,params,pipelined16}" \
    "$@"
fi
if [ "$PART" = all ] || [ "$PART" = frameworks ]; then
  python3 "$COMPARE" \
    --server "transom-app=$PY -m transom run benchmarks.apps.transom_app:app --port {port} --no-access-log" \
    --server "transom-app-pure=PYTHONPATH=$pure $PY -m transom run benchmarks.apps.transom_app:app --port {port} --no-access-log" \
    --server "starlette-granian=PYTHONPATH={bench} {peers_bin}/granian --interface asgi --host {host} --port {port} --workers 1 --runtime-threads 1 --loop uvloop --http 1 --no-ws --log-level warning --no-access-log apps.starlette_app:app" \
    --peer starlette-uvicorn \
    --scenario "${SCENARIOS:-plaintext,json,params}" \
    "$@"
fi
