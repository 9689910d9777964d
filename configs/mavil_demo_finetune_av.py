# Fine-tuning (av) of the MAViL demo encoders (the uni-modal ViTs; fusion encoder and
# decoders dropped, as in the paper, Sec. 4.2): AVRecognizer reads the MAViL checkpoint
# through its layout filter (tools/convert/avmae_to_recognizer.py writes the same weights).
#   python tools/train.py configs/mavil_demo_finetune_av.py
#   python tools/test.py configs/mavil_demo_finetune_av.py \
#       work_dirs/mavil_demo_finetune_av/epoch_20.pth
# Stage-1 encoders: --cfg-options model.pretrained=work_dirs/mavil_stage1_demo/epoch_40.pth
_base_ = ['./avmae_demo_finetune_av.py']
model = dict(pretrained='work_dirs/mavil_stage2_demo/epoch_40.pth')
