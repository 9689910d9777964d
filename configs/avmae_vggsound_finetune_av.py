# Audio-visual VGGSound fine-tuning of Audiovisual MAE ViT-B encoders, late fusion
# (Georgescu et al., Sec. 4.1 "Finetuning"; the paper's AV numbers use MBT:
# avmae_vggsound_finetune_mbt.py). Settings and sources: the bases.
#   python tools/convert/avmae_to_recognizer.py \
#       work_dirs/avmae_vggsound_vitb_mid_shared/epoch_800.pth work_dirs/avmae_vggsound_enc.pth
#   tools/dist_train.sh configs/avmae_vggsound_finetune_av.py 8 \
#       --cfg-options model.pretrained=work_dirs/avmae_vggsound_enc.pth
#   python tools/test.py configs/avmae_vggsound_finetune_av.py work_dirs/.../best_*.pth
_base_ = ['./_base_/models/avmae_recognizer_vit_base.py',
          './_base_/datasets/vggsound_avmae_finetune.py',
          './_base_/schedules/avmae_finetune_mbt_50e.py', './_base_/default_runtime.py']
model = dict(pretrained='work_dirs/avmae_vggsound_enc.pth')
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=5, save_best='auto'))
