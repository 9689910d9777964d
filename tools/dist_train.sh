#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCESSES [train.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT. Without CUDA the processes use gloo on CPU.
# If a worker fails, the last lines name the first failing rank and its error.
set -euo pipefail
usage() {
    echo "usage: $0 CONFIG NUM_PROCESSES [tools/train.py arguments]" >&2
    echo "  e.g. $0 configs/avmask_ucf101.py 8 --resume" >&2
    echo "  env: NNODES, NODE_RANK, MASTER_ADDR, PORT (multi-node), PYTHON" >&2
    exit 2
}
source "$(dirname "$0")/launch_common.sh"
[ $# -ge 2 ] || usage
require_config "$1"
rc=0
torchrun_launch train.py "$2" "$1" "${@:3}" || rc=$?
exit "$rc"
