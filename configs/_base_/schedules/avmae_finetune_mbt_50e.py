# Fine-tuning schedule of the public MBT code (its AudioSet config; the paper follows MBT's
# recipe, Sec. 4.3): SGD momentum 0.9, no weight decay, lr 0.5 for 64 clips, 2.5 warm-up
# epochs, cosine decay, gradient clipping at norm 1, 50 epochs. `--auto-scale-lr` rescales
# the lr for another total batch (8 GPUs x 8 here).
max_epochs, warmup_epochs = 50, 2.5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=0.0),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0.0,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=False, base_batch_size=64)
