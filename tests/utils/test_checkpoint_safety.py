"""Safe loading: foreign pickles are refused before they run; our own
checkpoints (HistoryBuffer, numpy objects) load; sidecars do not transfer."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as ckpt_mod

import mmav_mask  # noqa: F401  (routes mmengine's loader through the policy)
from mmav_mask.utils import (UntrustedCheckpointError, load_checkpoint_file,
                             load_external_weights, trust_checkpoint)
from mmav_mask.utils import checkpoint as policy


class Payload:
    """Creates ``marker`` when unpickled (stands in for arbitrary code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture(autouse=True)
def own_trust_key(tmp_path, monkeypatch):
    monkeypatch.setenv(policy._KEY_ENV, str(tmp_path / 'key' / 'trust.key'))
    monkeypatch.delenv(policy.TRUST_ENV, raising=False)
    policy._explicitly_trusted.clear()
    yield
    policy._explicitly_trusted.clear()


def _malicious(tmp_path, legacy=False):
    marker = str(tmp_path / 'PWNED')
    path = str(tmp_path / 'foreign.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': Payload(marker)}, path,
               _use_new_zipfile_serialization=not legacy)
    return path, marker


def _assert_refused(err, path):
    msg = str(err.value)
    assert path in msg
    assert 'MMAV_TRUSTED_CHECKPOINTS' in msg or 're-save' in msg


@pytest.mark.parametrize('legacy', [False, True])
@pytest.mark.parametrize('loader', [
    lambda p: ckpt_mod._load_checkpoint(p, map_location='cpu'),
    lambda p: ckpt_mod.CheckpointLoader.load_checkpoint(p, map_location='cpu'),
    lambda p: ckpt_mod.load_checkpoint(torch.nn.Linear(2, 2), p, map_location='cpu'),
    lambda p: load_checkpoint_file(p),
], ids=['_load_checkpoint', 'CheckpointLoader', 'load_checkpoint', 'load_checkpoint_file'])
def test_malicious_pickle_refused_by_mmengine_path(tmp_path, loader, legacy):
    path, marker = _malicious(tmp_path, legacy)
    with pytest.raises(UntrustedCheckpointError) as err:
        loader(path)
    assert not osp.exists(marker)
    _assert_refused(err, path)
    assert f'MMAV_TRUSTED_CHECKPOINTS={path}' in str(err.value)


def test_malicious_pickle_refused_by_load_external_weights(tmp_path, monkeypatch):
    path, marker = _malicious(tmp_path)
    # even a user-trusted file is loaded tensors-only here
    monkeypatch.setenv(policy.TRUST_ENV, path)
    with pytest.raises(UntrustedCheckpointError) as err:
        load_external_weights(path)
    assert not osp.exists(marker)
    _assert_refused(err, path)


def test_env_variable_allows_a_trusted_file(tmp_path, monkeypatch):
    path, marker = _malicious(tmp_path)
    other = str(tmp_path / 'other.pth')
    monkeypatch.setenv(policy.TRUST_ENV, os.pathsep.join([other, path]))
    ckpt = ckpt_mod._load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    # the payload really runs once trusted: the refusals above prevented it
    assert osp.exists(marker)


def test_trust_checkpoint_call_allows_a_file(tmp_path):
    path, marker = _malicious(tmp_path)
    trust_checkpoint(path)
    ckpt_mod.CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert osp.exists(marker)


def _runner_like_checkpoint():
    buf = HistoryBuffer()
    buf.update(1.5)
    return {'meta': {'seed': np.int64(3), 'hub': {'loss': buf}, 'arr': np.arange(3)},
            'state_dict': {'w': torch.arange(4.)}}


def test_checkpoint_written_by_patched_save_loads(tmp_path):
    path = str(tmp_path / 'iter_1.pth')
    ckpt_mod.save_checkpoint(_runner_like_checkpoint(), path)  # patched by mmav_mask
    assert osp.isfile(path + policy.TRUST_SUFFIX)
    with pytest.raises(Exception):  # needs full unpickling: weights_only refuses it
        torch.load(path, weights_only=True)
    ckpt = ckpt_mod._load_checkpoint(path, map_location='cpu')
    assert isinstance(ckpt['meta']['hub']['loss'], HistoryBuffer)
    assert ckpt['meta']['hub']['loss'].current() == 1.5
    assert np.array_equal(ckpt['meta']['arr'], np.arange(3))
    # plain tensors need no trust at all
    plain = str(tmp_path / 'plain.pth')
    torch.save({'w': torch.ones(3)}, plain)
    assert torch.equal(load_external_weights(plain)['w'], torch.ones(3))


def test_runner_checkpoint_roundtrip(tmp_path):
    """A checkpoint written by mmengine's Runner resumes through the policy."""
    from mmengine.runner import Runner
    import sys
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)), 'engine'))
    from _toy import toy_runner_cfg
    work = str(tmp_path / 'run')
    Runner(**toy_runner_cfg(work, 2, ckpt_interval=2)).train()
    ckpt = osp.join(work, 'iter_2.pth')
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read() == ckpt
    runner = Runner(**toy_runner_cfg(work, 2, ckpt_interval=2, resume=True))
    runner.load_or_resume()
    assert runner.iter == 2


def test_copied_sidecar_does_not_transfer(tmp_path):
    good = str(tmp_path / 'good.pth')
    ckpt_mod.save_checkpoint(_runner_like_checkpoint(), good)
    path, marker = _malicious(tmp_path)
    shutil.copy(good + policy.TRUST_SUFFIX, path + policy.TRUST_SUFFIX)
    with pytest.raises(UntrustedCheckpointError):
        ckpt_mod._load_checkpoint(path, map_location='cpu')
    assert not osp.exists(marker)


def test_tampered_checkpoint_with_its_own_sidecar_refused(tmp_path):
    good = str(tmp_path / 'good.pth')
    ckpt_mod.save_checkpoint(_runner_like_checkpoint(), good)
    evil, marker = _malicious(tmp_path)
    shutil.copy(evil, good)  # replaced after signing; the sidecar stays
    with pytest.raises(UntrustedCheckpointError):
        ckpt_mod._load_checkpoint(good, map_location='cpu')
    assert not osp.exists(marker)


def test_sidecar_from_another_key_refused(tmp_path, monkeypatch):
    """A sidecar signed on another machine / by another user does not verify."""
    path = str(tmp_path / 'theirs.pth')
    ckpt_mod.save_checkpoint(_runner_like_checkpoint(), path)
    ckpt_mod._load_checkpoint(path, map_location='cpu')  # ours: fine
    monkeypatch.setenv(policy._KEY_ENV, str(tmp_path / 'other' / 'trust.key'))
    with pytest.raises(UntrustedCheckpointError):
        ckpt_mod._load_checkpoint(path, map_location='cpu')
