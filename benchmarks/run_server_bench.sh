#!/bin/sh
# Server against server: transom and uvicorn (httptools, uvloop) serving the same raw ASGI app,
# measured by the shared compare tool. Run from the repository root:
#   sh benchmarks/run_server_bench.sh [extra compare.py options, e.g. --rounds 3]
#   SCENARIOS=plaintext,json sh benchmarks/run_server_bench.sh --rounds 3
set -eu
COMPARE=${COMPARE:-../shared/bench/compare.py}
exec python3 "$COMPARE" \
    --server 'transom-raw=PYTHONPATH={bench} .venv/bin/transom run apps.raw_asgi:app --port {port} --no-access-log' \
    --scenario "${SCENARIOS:-plaintext,json,params,pipelined16,echo10k,short}" \
    "$@"
