# MAViL stage 2 on the demo data: a freshly initialised student predicts the frozen stage-1
# teacher's fusion-encoder features of the full input at its masked tokens (Sec. 3.3,
# Table 4 "MAViL-Fusion"; target='unimodal' is "MAViL-Uni"), contrastive terms kept, raw
# reconstruction off. Train stage 1 first:
#   python tools/train.py configs/mavil_stage1_demo.py
#   python tools/train.py configs/mavil_stage2_demo.py
#   python tools/test.py configs/mavil_stage2_demo.py work_dirs/mavil_stage2_demo/epoch_40.pth
# Another teacher: --cfg-options model.teacher.checkpoint=PATH
_base_ = ['./mavil_stage1_demo.py']
model = dict(target='fusion',
             teacher=dict(checkpoint='work_dirs/mavil_stage1_demo/epoch_40.pth'))
