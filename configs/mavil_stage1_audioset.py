# MAViL stage 1 on AudioSet-2M with the paper's settings (Huang et al.; model and data
# bases cite their sections): ViT-B encoders, vanilla 2-layer fusion, 8 x 512-d decoders,
# raw targets, masks 0.8, inter/intra contrast. Optimisation (Table 10, Sec. 4.2): AdamW
# (0.9, 0.95), weight decay 1e-5, base lr 2e-4 per 256 clips at batch 512 (64 GPUs x 8),
# 4 warm-up epochs, half-cycle cosine to 1e-6, no gradient clipping, 20 epochs, drop path 0.
#   tools/dist_train.sh configs/mavil_stage1_audioset.py 64   (8 clips per GPU)
# MBT fusion: --cfg-options model.backbone.fusion.mode=mbt
_base_ = ['./_base_/models/mavil_vit_base.py', './_base_/datasets/audioset_mavil.py',
          './_base_/default_runtime.py']

max_epochs, warmup_epochs = 20, 4
# validation = retrieval over the whole eval list (~19k clips): once, at the end
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-4 * 512 / 256, betas=(0.9, 0.95), weight_decay=1e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0),
                                    'modality_embed': dict(decay_mult=0.0),
                                    'bottleneck.tokens': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=False, base_batch_size=512)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
