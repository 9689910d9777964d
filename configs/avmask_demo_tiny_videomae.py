# The video-only twin of avmask_demo_tiny.py (VideoMAE: no audio encoder, no fusion),
# same data, masks and budget: the baseline of the main job's audio picture.
_base_ = ['./avmask_demo_tiny.py']
model = dict(audio_backbone=None, fusion=dict(_delete_=True, type='NoFusion'))
