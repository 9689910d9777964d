# UCF101 for fine-tuning (VideoMAE's recipe): the clips of ucf101_av.py (16 x 4 frames and
# their aligned MFCC) with RandomResizedCrop, flip, RandAugment m7 n4 (same ops for every
# frame) and random erasing 0.25 in training, one centre crop for validation, 5 clips x 3
# crops at test; no masks. Video-/audio-only configs drop the steps they do not need.
_base_ = ['./ucf101_av.py']

# the clip loading of the pretraining pipelines, taken from them (frames + aligned audio)
__load = ('DecordInit', 'SafeDecordInit', 'SampleFrames', 'LoadAlignedAudio', 'DecordDecode',
          'AudioMFCC')
__train, __val = ([s for s in p if s.type in __load]
                  for p in (_base_.train_pipeline, _base_.val_pipeline))
__pack = [dict(type='FormatShape', input_format='NCTHW'), dict(type='PackAVInputs', mask_keys=())]
train_pipeline = __train + [
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(_base_.img_size, _base_.img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='TorchVisionWrapper', op='RandAugment', magnitude=7, num_ops=4),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand')] + __pack
val_pipeline = __val + [dict(type='Resize', scale=(-1, _base_.img_size)),
                        dict(type='CenterCrop', crop_size=_base_.img_size)] + __pack
# 5 temporal clips, each with its own audio window (PackAVInputs tiles it over the crops)
test_pipeline = [dict(s, num_clips=5) if s.type == 'SampleFrames' else s for s in __val] + [
    dict(type='Resize', scale=(-1, _base_.img_size)),
    dict(type='ThreeCrop', crop_size=_base_.img_size)] + __pack

train_dataloader = dict(batch_size=16,  # 8 GPUs -> 128 clips, as VideoMAE's UCF101 script
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(_delete_=True, type='AccMetric',
                     metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
