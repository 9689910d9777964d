"""One loading rule: every route that loads a checkpoint in a process with the
plugin imported refuses a pickle that would run code (the marker file is never
created), our own and mmengine's checkpoints load anywhere, and full unpickling
needs an opt-in naming the file's SHA-256, checked on the bytes that are loaded."""
import hashlib
import http.server
import os
import os.path as osp
import shutil
import sys
import threading
from functools import partial

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner import checkpoint as ckpt_mod

import mmav_mask  # noqa: F401  (registers the safe loaders)
from mmav_mask.utils import UntrustedCheckpointError, allow_full_unpickling
from mmav_mask.utils import checkpoint as policy

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'engine'))
from _toy import LossRecorder, toy_runner_cfg  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class OpenPayload:
    """Unpickling it creates ``marker`` (stands in for arbitrary code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


class ExecPayload(OpenPayload):
    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").close()', ))


class GetattrPayload(OpenPayload):
    """Abuses the getattr that HistoryBuffer's state needs."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'update'))


@pytest.fixture(autouse=True)
def clean_opt_ins(monkeypatch, tmp_path):
    monkeypatch.delenv(policy.UNPICKLE_ENV, raising=False)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))  # download cache
    policy._allowed_sha256.clear()
    yield
    policy._allowed_sha256.clear()


def _toy_state():
    torch.manual_seed(0)
    from _toy import ToyModel
    return ToyModel().state_dict()


def _evil(tmp_path, payload=OpenPayload, name='evil.pth'):
    """A checkpoint that looks like a toy runner checkpoint plus a payload."""
    marker = str(tmp_path / f'PWNED_{name}')
    path = str(tmp_path / name)
    torch.save({'state_dict': _toy_state(), 'meta': {'epoch': 1, 'iter': 2,
                                                    'x': payload(marker)}}, path)
    return path, marker


def _refused(call, marker, name):
    with pytest.raises(UntrustedCheckpointError) as err:
        call()
    assert not osp.exists(marker), 'the payload ran'
    msg = str(err.value)
    assert name in msg and policy.UNPICKLE_ENV in msg
    return msg


# ----------------------------------------------------------- local routes
@pytest.mark.parametrize('payload', [OpenPayload, ExecPayload, GetattrPayload])
def test_mmengine_loaders_refuse_code(tmp_path, payload):
    path, marker = _evil(tmp_path, payload)
    for call in (lambda: ckpt_mod._load_checkpoint(path, map_location='cpu'),
                 lambda: ckpt_mod.CheckpointLoader.load_checkpoint(path),
                 lambda: ckpt_mod.load_checkpoint(torch.nn.Linear(2, 2), path)):
        _refused(call, marker, 'evil.pth')


def test_refusal_names_the_file_the_global_and_the_sha(tmp_path):
    path, marker = _evil(tmp_path)
    msg = _refused(lambda: policy.load_checkpoint_file(path), marker, 'evil.pth')
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert sha in msg and 'open' in msg


def _runner(work, **kwargs):
    return Runner(**toy_runner_cfg(str(work), 4, ckpt_interval=2, **kwargs))


def test_test_py_route_load_from(tmp_path):
    """tools/test.py sets cfg.load_from = CHECKPOINT; Runner.test() loads it
    through load_or_resume."""
    path, marker = _evil(tmp_path)
    cfg = toy_runner_cfg(str(tmp_path / 'work'), 4, ckpt_interval=2)
    cfg['load_from'] = path
    runner = Runner(**cfg)
    _refused(runner.load_or_resume, marker, 'evil.pth')
    _refused(lambda: runner.load_checkpoint(path), marker, 'evil.pth')


def test_load_from_and_resume_in_training(tmp_path):
    path, marker = _evil(tmp_path)
    cfg = toy_runner_cfg(str(tmp_path / 'a'), 4, ckpt_interval=2)
    cfg['load_from'] = path
    _refused(Runner(**cfg).train, marker, 'evil.pth')
    cfg = toy_runner_cfg(str(tmp_path / 'b'), 4, ckpt_interval=2, resume=True)
    cfg['load_from'] = path  # --resume PATH
    _refused(Runner(**cfg).train, marker, 'evil.pth')


def test_auto_resume_of_a_planted_work_dir_checkpoint(tmp_path):
    """--resume without a path: last_checkpoint names a planted file."""
    work = tmp_path / 'work'
    work.mkdir()
    path, marker = _evil(work, name='iter_2.pth')
    (work / 'last_checkpoint').write_text(path)
    _refused(_runner(work, resume=True).train, marker, 'iter_2.pth')


def test_model_pretrained_routes(tmp_path):
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    path, marker = _evil(tmp_path)
    vit = dict(type='MaskedVideoViT', img_size=32, num_frames=4, embed_dims=16, depth=1,
               num_heads=2)
    audio = dict(type='TalkNetAudioEncoder', out_dim=16, num_tokens=2, layers=(1, 1, 1, 1),
                 widths=(4, 8, 8, 8))
    with DefaultScope.overwrite_default_scope('mmaction'):
        models = [
            MODELS.build(dict(vit, pretrained=path)),
            MODELS.build(dict(audio, pretrained=path)),  # audio_backbone.pretrained
            MODELS.build(dict(type='AVRecognizer', backbone=vit, audio_backbone=audio,
                              cls_head=dict(type='TimeSformerHead', num_classes=2,
                                            in_channels=32), pretrained=path)),
            MODELS.build(dict(type='AVMaskEnhancer', backbone=vit, pretrained=path,
                              decoder=dict(type='VideoMAEDecoder', embed_dims=8, depth=1,
                                           num_heads=2),
                              head=dict(type='PixelReconstructionHead'))),
            # mmengine's init_cfg=Pretrained (MMAction2's usual way)
            MODELS.build(dict(vit, init_cfg=dict(type='Pretrained', checkpoint=path))),
        ]
    for model in models:
        _refused(model.init_weights, marker, 'evil.pth')


@pytest.mark.parametrize('tool', ['to_mmaction_vit', 'videomae_to_mmav'])
def test_converters_refuse_code(tmp_path, tool):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        tool, osp.join(REPO, 'tools', 'convert', f'{tool}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path, marker = _evil(tmp_path)
    _refused(lambda: module.main([path, str(tmp_path / 'out.pth')]), marker, 'evil.pth')
    assert not osp.exists(tmp_path / 'out.pth')


# -------------------------------------------------------------- URL routes
@pytest.fixture
def http_root(tmp_path):
    """Serves tmp_path/www on 127.0.0.1 from a thread; stops after the test
    (and by itself after 60 s at the latest)."""
    root = tmp_path / 'www'
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                             partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05),
                              daemon=True)
    thread.start()
    stopper = threading.Timer(60, server.shutdown)
    stopper.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    stopper.cancel()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_http_url_routes(tmp_path, http_root):
    root, base = http_root
    path, marker = _evil(root)
    url = f'{base}/evil.pth'
    _refused(lambda: ckpt_mod.CheckpointLoader.load_checkpoint(url), marker, url)
    cfg = toy_runner_cfg(str(tmp_path / 'a'), 4, ckpt_interval=2)
    cfg['load_from'] = url
    _refused(Runner(**cfg).train, marker, url)
    # the file came over HTTP (cached by torch.hub's rules), not from disk
    assert osp.isfile(osp.join(os.environ['TORCH_HOME'], 'hub', 'checkpoints', 'evil.pth'))


def test_url_in_last_checkpoint(tmp_path, http_root):
    root, base = http_root
    _, marker = _evil(root, name='iter_2.pth')
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(f'{base}/iter_2.pth')
    _refused(_runner(work, resume=True).train, marker, 'iter_2.pth')


def test_every_mmengine_scheme_is_routed(tmp_path, http_root, monkeypatch):
    root, base = http_root
    _, marker = _evil(root)
    registered = ckpt_mod.CheckpointLoader._schemes
    ours = {loader for _, loader in policy.SAFE_SCHEMES}
    assert len(registered) >= 11 and all(
        loader in ours for loader in registered.values()), registered
    # name -> URL schemes end in the same safe HTTP loader
    monkeypatch.setattr(ckpt_mod, 'get_torchvision_models', lambda: {'evil': f'{base}/evil.pth'})
    monkeypatch.setattr(ckpt_mod, 'get_external_models', lambda: {'evil': f'{base}/evil.pth'})
    monkeypatch.setattr(ckpt_mod, 'get_mmcls_models', lambda: {'evil': f'{base}/evil.pth'})
    for name in ('torchvision://evil', 'modelzoo://evil', 'open-mmlab://evil',
                 'openmmlab://evil', 'mmcls://evil'):
        _refused(lambda: ckpt_mod.CheckpointLoader.load_checkpoint(name), marker, 'evil.pth')


# --------------------------------------------------- what does load
def _runner_like_checkpoint():
    buf = HistoryBuffer()
    buf.update(1.5)
    return {'meta': {'seed': np.int64(3), 'arr': np.arange(3), 'eta': np.float64(2.0)},
            'message_hub': {'log_scalars': {'train/loss': buf}},
            'state_dict': {'w': torch.arange(4.)}}


def test_mmengine_style_checkpoint_loads_tensors_only(tmp_path):
    path = str(tmp_path / 'iter_1.pth')
    torch.save(_runner_like_checkpoint(), path)  # as stock mmengine writes it
    with pytest.raises(Exception):  # torch's own weights-only load refuses it
        torch.load(path, weights_only=True)
    ckpt = ckpt_mod._load_checkpoint(path, map_location='cpu')
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer) and loss.current() == 1.5 and loss.mean() == 1.5
    assert np.array_equal(ckpt['meta']['arr'], np.arange(3))
    assert ckpt['meta']['seed'] == 3 and ckpt['meta']['eta'] == 2.0


def test_sha256_opt_in_for_a_foreign_file(tmp_path, monkeypatch):
    import argparse
    path = str(tmp_path / 'foreign.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'args': argparse.Namespace(lr=1.0)}, path)
    with pytest.raises(UntrustedCheckpointError):
        ckpt_mod._load_checkpoint(path)
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    monkeypatch.setenv(policy.UNPICKLE_ENV, sha)
    assert ckpt_mod._load_checkpoint(path)['args'].lr == 1.0
    monkeypatch.delenv(policy.UNPICKLE_ENV)
    allow_full_unpickling(sha)
    assert ckpt_mod._load_checkpoint(path)['args'].lr == 1.0
    # the opt-in names content, not the path: a new file there is refused
    evil, marker = _evil(tmp_path)
    shutil.copy(evil, path)
    _refused(lambda: ckpt_mod._load_checkpoint(path), marker, 'foreign.pth')
    with pytest.raises(ValueError):
        allow_full_unpickling('not-a-sha')


def test_swap_between_hash_and_load_cannot_run_code(tmp_path, monkeypatch):
    """The opted-in file is replaced by an evil one right after it was read:
    the load uses the bytes that were hashed (deterministic race)."""
    import argparse
    path = str(tmp_path / 'model.pth')
    torch.save({'args': argparse.Namespace(lr=1.0)}, path)
    allow_full_unpickling(hashlib.sha256(open(path, 'rb').read()).hexdigest())
    evil, marker = _evil(tmp_path)
    real_sha256 = hashlib.sha256

    def swapping_sha256(data=b''):  # called after the single read
        shutil.copy(evil, path)
        return real_sha256(data)

    monkeypatch.setattr(policy.hashlib, 'sha256', swapping_sha256)
    loaded = policy.load_checkpoint_file(path)
    monkeypatch.setattr(policy.hashlib, 'sha256', real_sha256)
    assert not osp.exists(marker), 'the swapped-in file was unpickled'
    assert loaded['args'].lr == 1.0
    _refused(lambda: policy.load_checkpoint_file(path), marker, 'model.pth')


def test_swap_race_stress(tmp_path):
    """A thread keeps swapping an opted-in file and an evil one (atomic
    renames) while the main thread loads it: never any code."""
    import argparse
    good, path = str(tmp_path / 'good.pth'), str(tmp_path / 'model.pth')
    torch.save({'args': argparse.Namespace(lr=1.0)}, good)
    allow_full_unpickling(hashlib.sha256(open(good, 'rb').read()).hexdigest())
    evil, marker = _evil(tmp_path)
    shutil.copy(good, path)
    stop = threading.Event()

    def swapper():
        i = 0
        while not stop.is_set():
            shutil.copy(evil if i % 2 else good, path + '.tmp')
            os.replace(path + '.tmp', path)
            i += 1

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    loaded = refused = 0
    try:
        for _ in range(200):
            try:
                assert policy.load_checkpoint_file(path)['args'].lr == 1.0
                loaded += 1
            except UntrustedCheckpointError:
                refused += 1
    finally:
        stop.set()
        thread.join(5)
    assert not osp.exists(marker)
    assert loaded + refused == 200


# ------------------------------------------- copies of our own checkpoints
@pytest.mark.parametrize('hook', ['AtomicCheckpointHook', 'CheckpointHook'])
def test_copied_checkpoint_loads_and_resumes_anywhere(tmp_path, hook):
    """Train 2 iterations, copy the .pth alone to a fresh directory: it loads
    (tools/test.py route) and resumes there (no sidecar, no trust list)."""
    def cfg(work, **kwargs):
        c = toy_runner_cfg(str(work), 4, ckpt_interval=2, **kwargs)
        c['default_hooks']['checkpoint']['type'] = hook
        return c

    c = cfg(tmp_path / 'orig')
    c['train_cfg']['max_iters'] = 2
    Runner(**c).train()
    fresh = tmp_path / 'elsewhere'
    fresh.mkdir()
    copy = str(fresh / 'copied.pth')
    shutil.copy(tmp_path / 'orig' / 'iter_2.pth', copy)
    assert sorted(os.listdir(fresh)) == ['copied.pth']

    ckpt = ckpt_mod._load_checkpoint(copy, map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    recorder = LossRecorder()
    c = cfg(tmp_path / 'resumed', resume=True, custom_hooks=[recorder.hook])
    c['load_from'] = copy
    runner = Runner(**c)
    runner.train()
    assert sorted(recorder.losses) == [3, 4] and runner.iter == 4
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 4  # history came along


def test_writer_keeps_only_allowlisted_types(tmp_path):
    """save_checkpoint_atomic: mmengine/numpy types stay, containers become
    plain, anything else is dropped; the file loads tensors-only."""
    import argparse
    import collections
    import pathlib
    from mmengine.config import ConfigDict
    Point = collections.namedtuple('Point', 'x y')
    buf = HistoryBuffer()
    buf.update(2.0)
    marker = str(tmp_path / 'PWNED')
    ckpt = {'state_dict': {'w': torch.ones(2)},
            'meta': {'cfg': ConfigDict(a=1), 'pt': Point(1, 2), 'path': pathlib.Path('/x'),
                     'ns': argparse.Namespace(a=1), 'evil': OpenPayload(marker),
                     'dd': collections.defaultdict(int, a=3), 'np': np.float32(1.5),
                     'obj': np.array([1, 'a'], dtype=object)},
            'message_hub': {'log_scalars': {'train/loss': buf}}}
    path = str(tmp_path / 'iter_1.pth')
    policy.save_checkpoint_atomic(ckpt, path)
    assert policy.unsafe_globals(path) == []
    loaded = policy.load_checkpoint_file(path)
    meta = loaded['meta']
    assert meta['cfg'] == {'a': 1} and type(meta['cfg']) is dict
    assert meta['pt'] == (1, 2) and meta['path'] == '/x' and meta['dd'] == {'a': 3}
    assert meta['np'] == np.float32(1.5) and meta['obj'] == [1, 'a']
    assert 'ns' not in meta and 'evil' not in meta and not osp.exists(marker)
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 2.0
    assert [n for n in os.listdir(tmp_path) if n.endswith('.tmp')] == []


def test_allowlist_is_scoped_and_nests():
    path_like = policy.SAFE_GLOBALS[0]
    assert path_like not in torch.serialization.get_safe_globals()  # not process-wide
    with policy.safe_globals():
        with policy.safe_globals():
            pass
        assert path_like in torch.serialization.get_safe_globals()  # outer scope intact
    assert path_like not in torch.serialization.get_safe_globals()
