#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [test.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT. Without CUDA the processes use gloo on CPU.
# If a worker fails, the last lines name the first failing rank and its error.
set -euo pipefail
usage() {
    echo "usage: $0 CONFIG CHECKPOINT NUM_PROCESSES [tools/test.py arguments]" >&2
    echo "  e.g. $0 configs/avmask_ucf101.py work_dirs/avmask_ucf101/epoch_1200.pth 8" >&2
    echo "  env: NNODES, NODE_RANK, MASTER_ADDR, PORT (multi-node), PYTHON" >&2
    exit 2
}
[ $# -ge 3 ] || usage
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
[[ "$GPUS" =~ ^[1-9][0-9]*$ ]] || { echo "NUM_PROCESSES must be a positive integer, got '$GPUS'" >&2; usage; }
[[ "$CONFIG" == *::* || -f "$CONFIG" ]] || { echo "config file not found: $CONFIG" >&2; usage; }
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
TOOLS="$(dirname "$0")"
ERROR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mmav_dist_test.XXXXXX")  # kept if the run fails

rc=0
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
"$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$GPUS" --master_port="$PORT" \
    --log-dir "$ERROR_DIR" \
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}" || rc=$?
if [ "$rc" -eq 0 ]; then
    rm -rf "$ERROR_DIR"
else
    "$PYTHON" "$TOOLS/dist_failure_summary.py" "$ERROR_DIR" --node-rank "$NODE_RANK" \
        --nproc-per-node "$GPUS" --exit-code "$rc" >&2 || true
fi
exit "$rc"
