# Ablation "VideoMAE": video only, no audio encoder, no fusion (same pipeline and budget).
_base_ = ['./avmask_ucf101.py']

model = dict(audio_backbone=None, fusion=dict(_delete_=True, type='NoFusion'))
