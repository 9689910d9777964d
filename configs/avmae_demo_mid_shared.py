# Audiovisual MAE on the demo data (CPU, minutes): mid-fusion encoder, shared decoder,
# joint reconstruction of video and audio with equal weights (the paper's default).
#   python tools/data/make_demo_dataset.py --out data/demo --seed 0 --clips-per-class 12
#   python tools/train.py configs/avmae_demo_mid_shared.py
#   python tools/test.py configs/avmae_demo_mid_shared.py \
#       work_dirs/avmae_demo_mid_shared/epoch_20.pth
# The other variants (configs/avmae_demo_*.py) change one model key of this file.
_base_ = ['./_base_/models/avmae_vit_tiny.py', './_base_/datasets/demo_avmae.py',
          './_base_/default_runtime.py']

max_epochs, warmup_epochs = 20, 2
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0),
                                    'modality_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=0.01,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=4)
