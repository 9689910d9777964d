# MAViL stage 1 on the demo data (CPU, minutes): raw-target reconstruction of both
# modalities through a vanilla fusion encoder, with inter- and intra-modal contrast.
#   python tools/data/make_demo_dataset.py --out data/demo --seed 0 --clips-per-class 12
#   python tools/train.py configs/mavil_stage1_demo.py
#   python tools/test.py configs/mavil_stage1_demo.py work_dirs/mavil_stage1_demo/epoch_40.pth
# Variants: mavil_stage1_demo_mbt.py (MBT fusion), mavil_stage1_demo_nocontrast.py
# (alpha = beta = 0); stage 2: mavil_stage2_demo.py.
_base_ = ['./_base_/models/mavil_vit_tiny.py', './_base_/datasets/demo_mavil.py',
          './_base_/schedules/avmae_demo_20e.py', './_base_/default_runtime.py']

# batch 8: the contrastive terms take their negatives from the batch
train_dataloader = dict(batch_size=8)
max_epochs, warmup_epochs = 40, 4
train_cfg = dict(max_epochs=max_epochs, val_interval=20)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'bottleneck.tokens': dict(decay_mult=0.0)}))
param_scheduler = [dict(_base_.param_scheduler[0], end=warmup_epochs),
                   dict(_base_.param_scheduler[1], T_max=max_epochs - warmup_epochs,
                        begin=warmup_epochs, end=max_epochs)]
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=20, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=4)
