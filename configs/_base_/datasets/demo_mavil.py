# The demo data for MAViL pretraining: demo_avmae.py's loading (8 frames x interval 4 at
# 64 x 64, 2.56 s of 128-bin fbank around them) with MAViL's masks: random 80 % for both
# modalities (Sec. 3.1, Table 1) plus a second view each whose visible tokens are drawn
# among the first view's masked ones (disjoint, Sec. 3.2) for the intra-modal contrast.
# Evaluation: audio-to-video retrieval over the held-out clips and the masked MSEs.
_base_ = ['./demo_avmae.py']

video_mask_ratio, audio_mask_ratio = 0.8, 0.8
__views = dict(
    RandomMaskGenerator=dict(mask_ratio=video_mask_ratio, second_view_key='mask_view2'),
    AudioMaskGenerator=dict(mask_ratio=audio_mask_ratio, second_view_key='audio_mask_view2'))
train_pipeline, val_pipeline = ([dict(s, **__views[s.type]) if s.type in __views else s
                                 for s in p]
                                for p in (_base_.train_pipeline, _base_.val_pipeline))
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='AVRetrievalMetric')  # add AVReconstructionMetric in a list for rec/*
test_evaluator = val_evaluator
