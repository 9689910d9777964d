# VideoMAE / AV-MaskEnhancer pretraining schedule: AdamW (0.9, 0.95), weight decay 0.05,
# lr 1.5e-4 per 256 clips (auto_scale_lr), 40 warm-up epochs then cosine, 1200 epochs.
max_epochs = 1200
warmup_epochs = 40

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    # mixed precision; MMAVRunner trains in fp32 on machines without CUDA
    type='AmpOptimWrapper',
    # fused: one vectorised kernel for all parameters; the for-loop AdamW was the largest
    # fixed cost of the audio-visual step (see README, Performance)
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=True),
    # VideoMAE applies no weight decay to 1-D parameters (norms, biases, q/v
    # biases, layer scale) and to the mask token.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    # eta_min as a ratio so it follows the auto-scaled lr (VideoMAE: 1e-5 at lr 1.5e-4).
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=1 / 15,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]

# lr above is for 256 clips per step; scaled by the real total batch.
auto_scale_lr = dict(enable=True, base_batch_size=256)
