"""Every AVMAE demo config trains for 2 iterations through tools/train.py and is
evaluated through tools/test.py on freshly generated demo data: each pretraining
variant, then each fine-tuning config (late fusion, video, audio, MBT) from a
pretrained checkpoint (converted by tools/convert/avmae_to_recognizer.py, or the
AVMAE checkpoint itself for MBT)."""
import glob
import json
import os
import os.path as osp
import sys

import pytest
from cli_utils import demo_list_options, run_cli

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = sorted(osp.basename(p)[:-3] for p in glob.glob(osp.join(REPO, 'configs',
                                                                     'avmae_demo_*.py'))
                  if 'finetune' not in p)
FINETUNE = sorted(osp.basename(p)[:-3] for p in glob.glob(osp.join(REPO, 'configs',
                                                                     'avmae_demo_finetune_*.py')))
VIDEO_METRICS, AUDIO_METRICS = ('rec/masked_mse', 'rec/psnr'), ('rec/audio_masked_mse', )






@pytest.fixture(scope='module')
def trained(tiny_demo_data, tmp_path_factory):
    """name -> (work dir, checkpoint) of a 2-iteration run, each config run once."""
    done = {}

    def train(name, *extra):
        if name not in done:
            work = tmp_path_factory.mktemp(name)
            run_cli([sys.executable, 'tools/train.py', osp.join(REPO, 'configs', f'{name}.py'),
                     '--work-dir', str(work)] + _options(tiny_demo_data, *extra))
            with open(work / 'last_checkpoint') as f:
                ckpt = f.read().strip()
            assert ckpt.endswith('epoch_1.pth') and osp.isfile(ckpt)
            done[name] = work, ckpt
        return done[name]
    return train


def _options(data, *extra):
    # 8 training clips at batch 4: 2 iterations
    return ['--cfg-options', *demo_list_options(data), 'train_dataloader.dataset.indices=8',
            'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            'default_hooks.checkpoint.interval=1', *extra]


def _last_train_scalars(work):
    run = [d for d in os.listdir(work) if osp.isdir(work / d / 'vis_data')][0]
    with open(work / run / 'vis_data' / 'scalars.json') as f:
        scalars = [json.loads(line) for line in f if line.strip()]
    train = [s for s in scalars if 'loss' in s]
    assert train and train[-1]['iter'] == 2
    return train[-1]


def _expected(name):
    """The losses and test metrics a pretraining variant must report (its objective)."""
    if name.endswith('inpaint_video'):
        return ('loss_video', ), VIDEO_METRICS
    if name.endswith('inpaint_audio'):
        return ('loss_audio', ), AUDIO_METRICS
    return ('loss_video', 'loss_audio'), VIDEO_METRICS + AUDIO_METRICS


def test_every_variant_has_a_config():
    assert len(PRETRAIN) == 9 and len(FINETUNE) == 4, (PRETRAIN, FINETUNE)


@pytest.mark.parametrize('name', PRETRAIN)
def test_pretraining_trains_two_iterations_then_tests(tiny_demo_data, trained, tmp_path, name):
    losses, metrics = _expected(name)
    work, ckpt = trained(name)
    last = _last_train_scalars(work)
    for key in losses:
        assert 0 < last[key] < 100, (key, last)
    assert not ({'loss_video', 'loss_audio'} - set(losses)) & set(last)
    out = run_cli([sys.executable, 'tools/test.py', osp.join(REPO, 'configs', f'{name}.py'), ckpt,
                   '--work-dir', str(tmp_path / 'test')] + _options(tiny_demo_data))
    for key in metrics:
        assert key in out, key


@pytest.mark.parametrize('name', FINETUNE)
def test_finetuning_from_pretrained_encoders(tiny_demo_data, trained, tmp_path, name):
    _, pre = trained('avmae_demo_mid_shared')
    if name.endswith('mbt'):  # the AVMAE checkpoint itself (untied on load)
        weights = pre
    else:
        weights = str(tmp_path / 'encoders.pth')
        run_cli([sys.executable, 'tools/convert/avmae_to_recognizer.py', pre, weights])
    config = osp.join(REPO, 'configs', f'{name}.py')
    work = tmp_path / 'train'
    out = run_cli([sys.executable, 'tools/train.py', config, '--work-dir', str(work)]
                  + _options(tiny_demo_data, f'model.pretrained={weights}'))
    # every encoder weight found in the file; a one-modality model leaves exactly the
    # other encoder's weights unused
    report = next(line for line in out.splitlines() if 'AVRecognizer: loaded' in line)
    assert 'missing (besides cls_head/audio_norm): none;' in report, report
    unexpected = report.split('unexpected: ')[1].split('; shape mismatch')[0]
    other = {'video': "'audio_backbone.", 'audio': "'backbone."}.get(name.split('_')[-1])
    if other is None:
        assert unexpected == 'none', report
    else:
        keys = unexpected.strip('[]').split(', ')
        assert keys and all(k.startswith(other) for k in keys), report
    last = _last_train_scalars(work)
    assert 0 < last['loss_cls'] < 100, last
    ckpt = str(work / 'epoch_1.pth')
    out = run_cli([sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
                   str(tmp_path / 'test')] + _options(tiny_demo_data))
    assert 'acc/top1' in out and 'acc/top5' in out
