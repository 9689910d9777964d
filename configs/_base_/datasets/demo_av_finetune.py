# The demo data for fine-tuning: the clips of demo_av.py (8 x 4 frames at 64 x 64 and their
# aligned MFCC) with RandomResizedCrop + flip in training, one centre crop for validation,
# 5 clips x 3 crops at test; no masks; loading in the main process (2-core CPU).
_base_ = ['./demo_av.py']

# the clip loading of the pretraining pipelines, taken from them (frames + aligned audio)
__load = ('DecordInit', 'SafeDecordInit', 'SampleFrames', 'LoadAlignedAudio', 'DecordDecode',
          'AudioMFCC')
__train, __val = ([s for s in p if s.type in __load]
                  for p in (_base_.train_pipeline, _base_.val_pipeline))
__pack = [dict(type='FormatShape', input_format='NCTHW'), dict(type='PackAVInputs', mask_keys=())]
train_pipeline = __train + [
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(_base_.img_size, _base_.img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5)] + __pack
val_pipeline = __val + [dict(type='Resize', scale=(-1, _base_.img_size)),
                        dict(type='CenterCrop', crop_size=_base_.img_size)] + __pack
test_pipeline = [dict(s, num_clips=5) if s.type == 'SampleFrames' else s for s in __val] + [
    dict(type='Resize', scale=(-1, _base_.img_size)),
    dict(type='ThreeCrop', crop_size=_base_.img_size)] + __pack

__main = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(**__main, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(**__main, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(**__main, batch_size=1, dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(_delete_=True, type='AccMetric',
                     metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
