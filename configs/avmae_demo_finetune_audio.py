# Audio-only fine-tuning of an Audiovisual MAE demo spectrogram encoder (see
# avmae_demo_finetune_av.py for the conversion and the commands).
_base_ = ['./avmae_demo_finetune_av.py']
model = dict(backbone=None, cls_head=dict(in_channels=_base_.embed_dims))
