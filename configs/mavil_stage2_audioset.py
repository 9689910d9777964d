# MAViL stage 2 on AudioSet-2M (Huang et al., Sec. 3.3): a re-initialised student of the
# same architecture predicts the frozen stage-1 teacher's fusion-encoder outputs of the full
# audio and video at its masked tokens (Eq. 5, Table 4 "MAViL-Fusion"), contrastive terms
# kept (Eq. 6), raw reconstruction off (footnote 1); 20 epochs as stage 1 (Sec. 4.2).
#   tools/dist_train.sh configs/mavil_stage2_audioset.py 64 \
#       --cfg-options model.teacher.checkpoint=work_dirs/mavil_stage1_audioset/epoch_20.pth
# Table 4's other targets: model.target=unimodal (MAViL-Uni).
_base_ = ['./mavil_stage1_audioset.py']
model = dict(target='fusion',
             teacher=dict(checkpoint='work_dirs/mavil_stage1_audioset/epoch_20.pth'))
