# Audiovisual MAE on the demo data (CPU, minutes): mid-fusion encoder, shared decoder,
# joint reconstruction of video and audio with equal weights (the paper's default).
#   python tools/data/make_demo_dataset.py --out data/demo --seed 0 --clips-per-class 12
#   python tools/train.py configs/avmae_demo_mid_shared.py
#   python tools/test.py configs/avmae_demo_mid_shared.py \
#       work_dirs/avmae_demo_mid_shared/epoch_20.pth
# The other variants (configs/avmae_demo_*.py) change one model key of this file.
_base_ = ['./_base_/models/avmae_vit_tiny.py', './_base_/datasets/demo_avmae.py',
          './_base_/schedules/avmae_demo_20e.py', './_base_/default_runtime.py']

default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=4)
