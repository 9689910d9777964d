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
source "$(dirname "$0")/launch_common.sh"
[ $# -ge 3 ] || usage
require_config "$1"
rc=0
torchrun_launch test.py "$3" "$1" "$2" "${@:4}" || rc=$?
exit "$rc"
