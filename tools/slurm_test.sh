#!/usr/bin/env bash
# Usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# If a task fails, the last lines name the first failing rank and its error (error files in
# ERROR_DIR, default work_dirs/.launch_errors/JOB_NAME.PID: on the shared file system).
set -euo pipefail
usage() {
    echo "usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] $0 PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py arguments]" >&2
    echo "  e.g. $0 gpu avmask-test configs/avmask_ucf101.py work_dirs/avmask_ucf101/epoch_1200.pth" >&2
    exit 2
}
source "$(dirname "$0")/launch_common.sh"
[ $# -ge 4 ] || usage
require_config "$3"
rc=0
srun_launch "$1" "$2" test.py "$3" "$4" "${@:5}" || rc=$?
exit "$rc"
