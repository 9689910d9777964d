# VideoMAE's UCF101 fine-tuning schedule: AdamW (0.9, 0.999), weight decay 0.05 except on
# 1-D parameters and biases, lr 5e-4 per 256 clips (here 128: 8 GPUs x 16), layer-wise lr
# decay 0.7 on the ViT (block i: 0.7^(12 - i), patch embedding 0.7^13, heads 1), 5 warm-up
# epochs from 1e-8, cosine to 1e-5 at epoch 100. `--auto-scale-lr` rescales for other batches.
max_epochs, warmup_epochs = 100, 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=5e-4 * 128 / 256, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.7, norm_decay_mult=0.0, bias_decay_mult=0.0,
                       flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8 / 5e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=1e-5 / 5e-4,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=False, base_batch_size=128)
