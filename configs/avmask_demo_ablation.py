# Fusion ablation on the demo data: tools/analysis/fusion_ablation.py trains this config per
# fusion variant and seed (0 1 2) with one data order, lr schedule and test masks per seed.
_base_ = ['./avmask_demo_tiny.py']
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=600, val_interval=601)
train_dataloader = dict(batch_size=8, num_workers=1)
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, end=60),
                   dict(type='CosineAnnealingLR', eta_min_ratio=0.01, by_epoch=False, begin=60,
                        end=600)]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=600, by_epoch=False))
log_processor = dict(window_size=20, by_epoch=False)
