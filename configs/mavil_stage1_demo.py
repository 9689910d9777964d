# MAViL stage 1 on the demo data (CPU, minutes): raw-target reconstruction of both
# modalities through a vanilla fusion encoder, with inter- and intra-modal contrast.
#   python tools/data/make_demo_dataset.py --out data/demo --seed 0 --clips-per-class 12
#   python tools/train.py configs/mavil_stage1_demo.py
#   python tools/test.py configs/mavil_stage1_demo.py work_dirs/mavil_stage1_demo/epoch_40.pth
# Variants: mavil_stage1_demo_mbt.py (MBT fusion), mavil_stage1_demo_nocontrast.py
# (alpha = beta = 0); stage 2: mavil_stage2_demo.py.
_base_ = ['./_base_/models/mavil_vit_tiny.py', './_base_/datasets/demo_mavil.py',
          './_base_/default_runtime.py']

# batch 8: the contrastive terms take their negatives from the batch
train_dataloader = dict(batch_size=8)
max_epochs, warmup_epochs = 40, 4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0),
                                    'modality_embed': dict(decay_mult=0.0),
                                    'bottleneck.tokens': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=0.01,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=20, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=4)
