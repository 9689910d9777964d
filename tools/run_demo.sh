#!/usr/bin/env bash
# The main job on the embedded demo data, install included (8.5-12 minutes measured on 2 CPU cores):
#   bash tools/run_demo.sh
# 1. install  2. make + check demo data (the sound decides the hidden object)
# 3. AV-MaskEnhancer pretraining  4. its video-only twin (VideoMAE), same data and budget
# 5. reconstruction test of both: object and background tubelets apart
# 6. audio-visual fine-tuning from the pretrained encoders + top-1 test
# 7. pictures: video-only vs audio-visual vs audio-visual with another clip's audio.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source tools/setup_env.sh
# one torch thread: on 2 cores the second thread competes with the 2 data workers
# (measured: 100 demo iterations 22-26 s with 1 thread, 28-30 s with 2)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
DATA=data/demo
WORK=work_dirs
PRE=$WORK/avmask_demo_tiny
VID=$WORK/avmask_demo_tiny_videomae
FT=$WORK/avmask_demo_finetune_av

step() { echo; echo "==== $* ===="; }
# the figures a researcher wants from a test log: object / background masked-pixel MSE
rec_rows() { grep -E "Epoch\(test\)" | tail -n 1 | grep -oE "rec/(masked_mse|object_masked_mse|background_masked_mse|object_share): [0-9.]+" | tr '\n' ' '; echo; }

step "1/7 demo data -> $DATA"
if [ ! -f "$DATA/ucf101_train_split_1_videos.txt" ] || [ ! -f "$(find "$DATA/videos" -name '*.objects.npz' -print -quit 2>/dev/null)" ]; then
    rm -rf "$DATA"
    python tools/data/make_demo_dataset.py --out "$DATA" --seed 0 --clips-per-class 12
fi
python tools/data/check_av_dataset.py configs/avmask_demo_tiny.py --split train | tail -n 3
python tools/data/check_av_dataset.py configs/avmask_demo_tiny.py --split val | tail -n 3

step "2/7 pretraining AV-MaskEnhancer (tiny, CPU) -> $PRE"
python tools/train.py configs/avmask_demo_tiny.py --work-dir "$PRE"
PRE_CKPT=$(cat "$PRE/last_checkpoint")

step "3/7 pretraining the video-only twin (VideoMAE, same data and budget) -> $VID"
python tools/train.py configs/avmask_demo_tiny_videomae.py --work-dir "$VID"
VID_CKPT=$(cat "$VID/last_checkpoint")

step "4/7 reconstruction of the held-out clips (tools/test.py), masked-pixel MSE"
echo -n "video-only    : "
python tools/test.py configs/avmask_demo_tiny_videomae.py "$VID_CKPT" --work-dir "$VID/test" 2>&1 | rec_rows
echo -n "audio-visual  : "
python tools/test.py configs/avmask_demo_tiny.py "$PRE_CKPT" --work-dir "$PRE/test" 2>&1 | rec_rows

step "5/7 audio-visual fine-tuning from $PRE_CKPT -> $FT"
python tools/train.py configs/avmask_demo_finetune_av.py --work-dir "$FT" \
    --cfg-options model.pretrained="$PRE_CKPT"
FT_CKPT=$(cat "$FT/last_checkpoint")

step "6/7 classification test (5 clips x 3 crops): top-1 / top-5 / mean class accuracy"
python tools/test.py configs/avmask_demo_finetune_av.py "$FT_CKPT" --work-dir "$FT/test" 2>&1 \
    | grep -E "Epoch\(test\)" | tail -n 1

step "7/7 pictures"
python tools/visualize_reconstruction.py configs/avmask_demo_tiny.py "$VID_CKPT" "$PRE_CKPT" \
    --configs configs/avmask_demo_tiny_videomae.py configs/avmask_demo_tiny.py \
    --labels video-only audio-visual --swapped-audio --num-clips 3 --hidden-objects \
    --out "$WORK/demo_audio_effect.png" | grep -E "object-region|wrote"
python tools/analysis/plot_loss_curves.py "$PRE" "$VID" --labels audio-visual video-only \
    --out "$WORK/demo_loss_curves.png"

cat <<MSG

Done.
  pretraining checkpoints + logs : $PRE (audio-visual), $VID (video-only)
  reconstruction metrics         : $PRE/test/*/*.json, $VID/test/*/*.json
  fine-tuning checkpoints + logs : $FT  (last: $FT_CKPT)
  classification metrics         : $FT/test/*/*.json
  pictures                       : $WORK/demo_audio_effect.png (ground truth | masked input |
                                   video-only | audio-visual | audio-visual with another clip's
                                   audio; object-region error under each column),
                                   $WORK/demo_loss_curves.png
MSG
