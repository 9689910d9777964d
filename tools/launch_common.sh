# Shared by tools/dist_{train,test}.sh and tools/slurm_{train,test}.sh (sourced, not run).
# Each launcher checks its own arguments, then calls torchrun_launch or srun_launch, which
# start the workers and, if one fails, name the first failing rank and its error.

TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON=${PYTHON:-python}

# require_config CONFIG: a file, or an mmaction:: / mmpretrain:: package config
require_config() {
    [[ "$1" == *::* || -f "$1" ]] || { echo "config file not found: $1" >&2; usage; }
}

# torchrun_launch SCRIPT NPROC ARGS...: SCRIPT (train.py or test.py) on NPROC local workers
torchrun_launch() {
    local script=$1 nproc=$2 rc=0 error_dir
    shift 2
    [[ "$nproc" =~ ^[1-9][0-9]*$ ]] || {
        echo "NUM_PROCESSES must be a positive integer, got '$nproc'" >&2; usage; }
    local nnodes=${NNODES:-1} node_rank=${NODE_RANK:-0}
    # one error file per failed worker (the tools' @record), kept if the run fails
    error_dir=$(mktemp -d "${TMPDIR:-/tmp}/mmav_dist_${script%.py}.XXXXXX")
    PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
    "$PYTHON" -m torch.distributed.run --nnodes="$nnodes" --node_rank="$node_rank" \
        --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$nproc" \
        --master_port="${PORT:-29500}" --log-dir "$error_dir" \
        "$TOOLS/$script" --launcher pytorch "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        rm -rf "$error_dir"
    else
        "$PYTHON" "$TOOLS/dist_failure_summary.py" "$error_dir" --node-rank "$node_rank" \
            --nproc-per-node "$nproc" --exit-code "$rc" >&2 || true
    fi
    return "$rc"
}

# srun_launch PARTITION JOB_NAME SCRIPT ARGS...: SCRIPT under slurm (GPUS, GPUS_PER_NODE,
# CPUS_PER_TASK, SRUN_ARGS); error files go to ERROR_DIR on the shared file system
srun_launch() {
    local partition=$1 job_name=$2 script=$3 rc=0
    shift 3
    local error_dir=${ERROR_DIR:-work_dirs/.launch_errors/$job_name.$$}
    local gpus_per_node=${GPUS_PER_NODE:-8}
    mkdir -p "$error_dir"
    # each task writes error_<rank>.json through the tool's @record
    PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
    srun -p "$partition" --job-name="$job_name" --gres=gpu:"$gpus_per_node" \
        --ntasks="${GPUS:-8}" --ntasks-per-node="$gpus_per_node" \
        --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
        bash -c 'export TORCHELASTIC_ERROR_FILE="$0/error_${SLURM_PROCID}.json"; exec "$@"' \
        "$error_dir" "$PYTHON" -u "$TOOLS/$script" --launcher slurm "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        rm -rf "$error_dir"
    else
        "$PYTHON" "$TOOLS/dist_failure_summary.py" "$error_dir" --exit-code "$rc" >&2 || true
    fi
    return "$rc"
}
