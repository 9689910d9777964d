# Fine-tuning data for the Audiovisual MAE demo: the loading steps of demo_avmae.py (8 x 4
# frames at 64 x 64, 2.56 s fbank around them), RandomResizedCrop + flip in training, a
# centre crop for validation, 5 clips x 3 crops at test; no masks; main-process loading.
_base_ = ['./demo_avmae.py']

__load = ('DecordInit', 'SampleFrames', 'LoadAlignedAudio', 'DecordDecode', 'AudioFbank')
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
