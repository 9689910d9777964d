# The Audiovisual MAE demo schedule, also MAViL's (CPU, minutes): AdamW lr 1e-3 (0.9, 0.95),
# weight decay 0.05 except on norms, biases, mask tokens and modality embeddings;
# 2 warm-up epochs from 1 %, cosine to 1 % at epoch 20.
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
