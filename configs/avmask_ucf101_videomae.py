# Ablation "VideoMAE": video only, no audio encoder, no fusion (same clips, frames, masks and
# budget; the audio transforms draw no random numbers, so dropping them changes nothing else).
_base_ = ['./avmask_ucf101.py']

model = dict(audio_backbone=None, fusion=dict(_delete_=True, type='NoFusion'))
__video = lambda p: [t for t in p if t.type not in ('LoadAlignedAudio', 'AudioMFCC')]  # noqa
train_dataloader = dict(dataset=dict(pipeline=__video(_base_.train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=__video(_base_.val_pipeline)))
test_dataloader = val_dataloader
