# Audiovisual MAE demo, Table 2 objective: modality inpainting, audio from video.
# As in the paper's Table 2: early-fusion encoder, shared decoder.
#   python tools/train.py configs/avmae_demo_inpaint_audio.py
#   python tools/test.py configs/avmae_demo_inpaint_audio.py \
#       work_dirs/avmae_demo_inpaint_audio/epoch_20.pth
_base_ = ['./avmae_demo_mid_shared.py']
model = dict(backbone=dict(fusion='early'), objective='inpaint_audio')
# parameters of the modality that is not reconstructed get no gradient (DDP)
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
