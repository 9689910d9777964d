#!/usr/bin/env bash
# Usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
# If a task fails, the last lines name the first failing rank and its error (error files in
# ERROR_DIR, default work_dirs/.launch_errors/JOB_NAME.PID: on the shared file system).
set -euo pipefail
usage() {
    echo "usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [tools/train.py arguments]" >&2
    echo "  e.g. $0 gpu avmask configs/avmask_ucf101.py work_dirs/avmask_ucf101 --resume" >&2
    exit 2
}
source "$(dirname "$0")/launch_common.sh"
[ $# -ge 3 ] || usage
require_config "$3"
# An optional 4th argument not starting with '-' is the work dir (as in MMAction2 0.x);
# everything else is passed on to train.py.
EXTRA=("${@:4}")
if [ $# -ge 4 ] && [ "${4#-}" = "$4" ]; then EXTRA=(--work-dir "$4" "${@:5}"); fi
rc=0
srun_launch "$1" "$2" train.py "$3" "${EXTRA[@]}" || rc=$?
exit "$rc"
