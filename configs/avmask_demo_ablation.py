# Fusion ablation on the demo data (tools/analysis/fusion_ablation.py): the tiny demo
# config (cross-attention fusion; the tool swaps in 'concat' and 'none' by overrides)
# with an iteration budget that trains all three variants in about 8 minutes on 2 cores.
#   python tools/analysis/fusion_ablation.py configs/avmask_demo_ablation.py
# The tool also fixes the seed, the sampler, the lr schedule and the test masks.
_base_ = ['./avmask_demo_tiny.py']

max_iters = 600
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1)

# one seeded data worker beside the training process (2 cores); InfiniteSampler so
# the iteration loop never restarts the loader (mmengine pauses 2 s at each restart)
train_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True, seed=0))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=60),
    dict(type='CosineAnnealingLR', T_max=max_iters - 60, eta_min_ratio=0.01,
         by_epoch=False, begin=60, end=max_iters),
]

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(type='CheckpointHook', interval=max_iters, by_epoch=False,
                    max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=20, by_epoch=False)
