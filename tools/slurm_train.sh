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
[ $# -ge 3 ] || usage
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
[[ "$CONFIG" == *::* || -f "$CONFIG" ]] || { echo "config file not found: $CONFIG" >&2; usage; }
# An optional 4th argument not starting with '-' is the work dir (as in MMAction2 0.x);
# everything else is passed on to train.py.
WORK_DIR=""
FIRST_EXTRA=4
if [ $# -ge 4 ] && [ "${4#-}" = "$4" ]; then WORK_DIR=$4; FIRST_EXTRA=5; fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
TOOLS="$(dirname "$0")"
EXTRA=("${@:FIRST_EXTRA}")
if [ -n "$WORK_DIR" ]; then EXTRA=(--work-dir "$WORK_DIR" "${EXTRA[@]}"); fi
ERROR_DIR=${ERROR_DIR:-work_dirs/.launch_errors/$JOB_NAME.$$}
mkdir -p "$ERROR_DIR"

rc=0
# each task writes error_<rank>.json through tools/train.py's @record
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    bash -c 'export TORCHELASTIC_ERROR_FILE="$0/error_${SLURM_PROCID}.json"; exec "$@"' \
    "$ERROR_DIR" "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --launcher slurm "${EXTRA[@]}" || rc=$?
if [ "$rc" -eq 0 ]; then
    rm -rf "$ERROR_DIR"
else
    "$PYTHON" "$TOOLS/dist_failure_summary.py" "$ERROR_DIR" --exit-code "$rc" >&2 || true
fi
exit "$rc"
