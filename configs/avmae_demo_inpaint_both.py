# Audiovisual MAE demo, Table 2 objective:
# modality inpainting, video from audio and audio from video, equal weights.
# As in the paper's Table 2: early-fusion encoder, shared decoder.
#   python tools/train.py configs/avmae_demo_inpaint_both.py
#   python tools/test.py configs/avmae_demo_inpaint_both.py \
#       work_dirs/avmae_demo_inpaint_both/epoch_20.pth
_base_ = ['./avmae_demo_mid_shared.py']
model = dict(backbone=dict(fusion='early'), objective='inpaint_both')
# Table 2's joint-reconstruction baseline (same encoder/decoder): avmae_demo_early_shared.py
