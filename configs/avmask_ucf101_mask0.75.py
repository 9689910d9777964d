# Ablation (paper Table I): tube mask ratio 0.75 instead of 0.9 (avmask_ucf101.py otherwise).
_base_ = ['./avmask_ucf101.py']
mask_ratio = 0.75
# lists are replaced whole: the base pipelines with only the mask generator's ratio changed
train_pipeline, val_pipeline = (
    [dict(s, mask_ratio=mask_ratio) if s.type == 'TubeMaskGenerator' else s for s in p]
    for p in (_base_.train_pipeline, _base_.val_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_pipeline = val_pipeline
