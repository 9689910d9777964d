# mmengine runtime for mmav-mask configs (MMAction2's default_runtime, stated here
# because 'mmaction::' bases need pkg_resources, which current setuptools lacks).
# Nothing here reads the machine: MMAVRunner picks gloo instead of nccl without CUDA
# and fp32 instead of AmpOptimWrapper without an accelerator, when the run starts.
default_scope = 'mmaction'
custom_imports = dict(imports=['mmav_mask'], allow_failed_imports=False)
runner_type = 'MMAVRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook with atomic writes and rotation that never deletes the newest file
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))
# Stop at the first NaN/inf loss naming the iteration (action='skip' to skip such steps);
# seed each step from (seed, rank, iteration) so --resume repeats the same steps.
custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='ExactResumeHook')]

env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=False, deterministic=False)
