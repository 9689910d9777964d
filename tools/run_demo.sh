#!/usr/bin/env bash
# The main job on the embedded demo data, install included (about 5 minutes on 2 CPU cores):
#   bash tools/run_demo.sh
# 1. install  2. make + check demo data  3. AV-MaskEnhancer pretraining  4. reconstruction test
# 5. audio-visual fine-tuning from the pretrained encoders + top-1 test  6. pictures.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source tools/setup_env.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
DATA=data/demo
WORK=work_dirs
PRE=$WORK/avmask_demo_tiny
FT=$WORK/avmask_demo_finetune_av

step() { echo; echo "==== $* ===="; }

step "1/6 demo data -> $DATA"
if [ ! -f "$DATA/ucf101_train_split_1_videos.txt" ]; then
    python tools/data/make_demo_dataset.py --out "$DATA" --seed 0 --clips-per-class 12
fi
python tools/data/check_av_dataset.py configs/avmask_demo_tiny.py --split train | tail -n 3
python tools/data/check_av_dataset.py configs/avmask_demo_tiny.py --split val | tail -n 3

step "2/6 pretraining AV-MaskEnhancer (tiny, CPU) -> $PRE"
python tools/train.py configs/avmask_demo_tiny.py --work-dir "$PRE"
PRE_CKPT=$(cat "$PRE/last_checkpoint")

step "3/6 reconstruction on the held-out clips (tools/test.py)"
python tools/test.py configs/avmask_demo_tiny.py "$PRE_CKPT" --work-dir "$PRE/test" 2>&1 \
    | grep -E "Epoch\(test\)|rec/" | tail -n 1

step "4/6 audio-visual fine-tuning from $PRE_CKPT -> $FT"
python tools/train.py configs/avmask_demo_finetune_av.py --work-dir "$FT" \
    --cfg-options model.pretrained="$PRE_CKPT"
FT_CKPT=$(cat "$FT/last_checkpoint")

step "5/6 classification test (5 clips x 3 crops): top-1 / top-5 / mean class accuracy"
python tools/test.py configs/avmask_demo_finetune_av.py "$FT_CKPT" --work-dir "$FT/test" 2>&1 \
    | grep -E "Epoch\(test\)" | tail -n 1

step "6/6 pictures"
python tools/visualize_reconstruction.py configs/avmask_demo_tiny.py "$PRE_CKPT" \
    --out "$WORK/demo_reconstruction.png" --num-clips 2
python tools/analysis/plot_loss_curves.py "$PRE" --out "$WORK/demo_loss_curves.png"

cat <<MSG

Done.
  pretraining checkpoints + logs : $PRE  (last: $PRE_CKPT)
  reconstruction metrics         : $PRE/test/*/*.json
  fine-tuning checkpoints + logs : $FT  (last: $FT_CKPT)
  classification metrics         : $FT/test/*/*.json
  pictures                       : $WORK/demo_reconstruction.png, $WORK/demo_loss_curves.png
MSG
