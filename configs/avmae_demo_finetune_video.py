# Video-only fine-tuning of an Audiovisual MAE demo video encoder (see
# avmae_demo_finetune_av.py for the conversion and the commands).
_base_ = ['./avmae_demo_finetune_av.py']
model = dict(audio_backbone=None, cls_head=dict(in_channels=_base_.embed_dims))
