#!/usr/bin/env bash
# Usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
# An optional 4th argument not starting with '-' is the work dir (as in MMAction2 0.x);
# everything else is passed on to train.py.
WORK_DIR=""
FIRST_EXTRA=4
if [ $# -ge 4 ] && [ "${4#-}" = "$4" ]; then WORK_DIR=$4; FIRST_EXTRA=5; fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
EXTRA=("${@:FIRST_EXTRA}")
if [ -n "$WORK_DIR" ]; then EXTRA=(--work-dir "$WORK_DIR" "${EXTRA[@]}"); fi

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    python -u "$(dirname "$0")/train.py" "$CONFIG" --launcher slurm "${EXTRA[@]}"
