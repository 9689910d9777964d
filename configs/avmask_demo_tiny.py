# AV-MaskEnhancer on the embedded demo data, sized for a 2-core CPU (minutes):
# tiny ViT (96-d, depth 2) on 8 x 64 x 64 clips, TalkNet audio, cross-attention fusion.
#   python tools/data/make_demo_dataset.py --out data/demo
#   python tools/train.py configs/avmask_demo_tiny.py
#   python tools/test.py configs/avmask_demo_tiny.py work_dirs/avmask_demo_tiny/epoch_15.pth
_base_ = [
    './_base_/models/avmask_vit_tiny.py',
    './_base_/datasets/demo_av.py',
    './_base_/default_runtime.py',
]

# 15 epochs of the train list repeated 25 times (32 clips -> 100 iterations of 8 per
# epoch): about 1,500 iterations, what the audio path needs to learn (see README).
# Other lists: --cfg-options train_dataloader.dataset.dataset.ann_file=...  (inner dataset)
max_epochs = 15
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
train_dataloader = dict(batch_size=8, dataset=dict(
    _delete_=True, type='RepeatDataset', times=25, dataset=_base_.train_dataloader.dataset))
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min_ratio=0.01, by_epoch=True,
         begin=1, end=max_epochs, convert_to_iter_based=True),
]

default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(interval=5, max_keep_ckpts=2, save_best=None))
log_processor = dict(window_size=25)
