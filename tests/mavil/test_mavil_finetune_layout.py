"""MAViL checkpoints -> fine-tuning: the 'mavil' layout keeps the two uni-modal encoders,
AVRecognizer loads them directly or through tools/convert/avmae_to_recognizer.py."""
import copy
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mavil_tiny import build, make_inputs, tiny_cfg
from mmaction.registry import MODELS
from mmav_mask.models.checkpoint_layouts import detect_layout, to_mmav
from mmav_mask.utils.checkpoint import save_checkpoint_atomic
from cli_utils import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = load_tool('tools/convert/avmae_to_recognizer.py', 'avmae_to_recognizer')


def _recognizer(pretrained):
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models',
                                   'avmae_recognizer_tiny.py')).model.to_dict()
    cfg = copy.deepcopy(cfg)
    cfg['pretrained'] = pretrained
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def test_mavil_checkpoint_fine_tunes_through_avrecognizer(tmp_path):
    torch.manual_seed(0)
    pre = build(tiny_cfg(mode='mbt')).eval()
    state = pre.state_dict()
    assert detect_layout(state) == 'mavil'
    mapped, _ = to_mmav(state)
    assert not [k for k in mapped if not k.startswith(('backbone.', 'audio_backbone.'))]
    assert len(mapped) == len(pre.backbone.video.state_dict()) + len(
        pre.backbone.audio.state_dict())
    path = str(tmp_path / 'mavil.pth')
    save_checkpoint_atomic(dict(state_dict=state), path)
    assert tool.main([path, str(tmp_path / 'enc.pth')]) == 0

    audio = make_inputs(batch=2)['audio'][:, 0]
    with torch.no_grad():
        audio_pre = pre.backbone.audio(audio, None)
        for source in (path, str(tmp_path / 'enc.pth')):
            rec = _recognizer(source)
            torch.testing.assert_close(rec.audio_backbone(audio), audio_pre)
            # mean-pooling read-out: the token norm initialises fc_norm
            own = rec.backbone.state_dict()
            for key, value in pre.backbone.video.state_dict().items():
                key = key if key in own else 'fc_' + key
                assert torch.equal(own[key], value), key


def test_converter_refuses_other_checkpoints(tmp_path, capsys):
    save_checkpoint_atomic(dict(state_dict={'backbone.patch_embed.proj.weight': torch.zeros(1)}),
                           str(tmp_path / 'plain.pth'))
    assert tool.main([str(tmp_path / 'plain.pth'), str(tmp_path / 'o.pth')]) == 1
    assert 'not an AVMAE or MAViL' in capsys.readouterr().err
