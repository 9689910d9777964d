# VGGSound for Audiovisual MAE fine-tuning: the clips of vggsound_avmae.py (16 x 4 frames,
# 8 s of 128-bin fbank centred on them, Sec. 4.1) without masks. Training: scale jitter
# crop (RandomResizedCrop, our stand-in for MBT's scale jitter 0.9-1.33) and flip;
# validation: one centre crop; test: 4 clips x 3 crops (MBT's multi-crop test: 4 clips;
# the 3 crops are ViViT's). Top-1 / top-5 accuracy (the VGGSound protocol, Table 4).
# Not here: SpecAugment and colour augmentation of the MBT recipe (no such transforms yet).
_base_ = ['./vggsound_avmae.py']

__load = ('SafeDecordInit', 'SampleFrames', 'LoadAlignedAudio', 'DecordDecode', 'AudioFbank')
__train, __val = ([s for s in p if s.type in __load]
                  for p in (_base_.train_pipeline, _base_.val_pipeline))
__pack = [dict(type='FormatShape', input_format='NCTHW'), dict(type='PackAVInputs', mask_keys=())]
train_pipeline = __train + [
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop', area_range=(0.3, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(_base_.img_size, _base_.img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5)] + __pack
val_pipeline = __val + [dict(type='Resize', scale=(-1, _base_.img_size)),
                        dict(type='CenterCrop', crop_size=_base_.img_size)] + __pack
test_pipeline = [dict(s, num_clips=4) if s.type == 'SampleFrames' else s for s in __val] + [
    dict(type='Resize', scale=(-1, _base_.img_size)),
    dict(type='ThreeCrop', crop_size=_base_.img_size)] + __pack

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(_delete_=True, type='AccMetric', metric_list=('top_k_accuracy', ))
test_evaluator = val_evaluator
