# Fine-tuning on the demo data (CPU, minutes): finetune_100e.py with lr 1e-3, layer decay
# 0.75, 3 warm-up epochs from 1 % and cosine to 1 % at epoch 30.
_base_ = ['./finetune_100e.py']
max_epochs, warmup_epochs = 30, 3
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(optimizer=dict(lr=1e-3), paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=0.01,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)]
