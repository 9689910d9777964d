"""Checkpoint trust policy and atomic checkpoint writes.

torch >= 2.6 loads with ``weights_only=True`` by default, which refuses the
checkpoints mmengine itself writes (they pickle ``HistoryBuffer`` and numpy
objects). Turning that off process-wide would let any downloaded ``.pth`` run
code, so the policy here is narrower:

* Every file is first loaded with ``weights_only=True``.
* Only if that fails, a file is fully unpickled when it is *trusted*: it was
  written by this plugin's checkpoint writer on this machine (a sidecar
  ``<file>.mmav-trust`` holding an HMAC of the file's SHA-256 under a per-user
  secret key), or the user listed it in ``MMAV_TRUSTED_CHECKPOINTS``
  (``os.pathsep``-separated paths), or called :func:`trust_checkpoint`.
* Anything else raises :class:`UntrustedCheckpointError` naming the file and
  how to allow it.

Writes go to a temporary file in the target directory, are fsynced, then
renamed over the target, so a kill during a save never leaves a truncated file
under the name that ``last_checkpoint`` or ``--resume`` would pick.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import os
import os.path as osp
import pickle
import re
import secrets
import tempfile
from typing import Any, Optional, Set

import torch

TRUST_SUFFIX = '.mmav-trust'
TRUST_ENV = 'MMAV_TRUSTED_CHECKPOINTS'
_KEY_ENV = 'MMAV_TRUST_KEY_FILE'
_explicitly_trusted: Set[str] = set()


class UntrustedCheckpointError(RuntimeError):
    """Raised when a checkpoint needs full unpickling but is not trusted."""


def _key_file() -> str:
    default = osp.join(osp.expanduser('~'), '.cache', 'mmav_mask', 'trust.key')
    return os.environ.get(_KEY_ENV, default)


def _trust_key() -> bytes:
    """Per-user secret; a sidecar copied from elsewhere does not verify."""
    path = _key_file()
    if not osp.isfile(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(path))
        with os.fdopen(fd, 'wb') as f:
            f.write(secrets.token_bytes(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent across processes
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path, 'rb') as f:
        return f.read()


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _signature(sha256_hex: str) -> str:
    return hmac.new(_trust_key(), sha256_hex.encode(), 'sha256').hexdigest()


def trust_checkpoint(path: str) -> None:
    """Allows full unpickling of ``path`` in this process (a trusted file)."""
    _explicitly_trusted.add(osp.realpath(path))


def is_trusted(path: str) -> bool:
    """Whether ``path`` may be fully unpickled under the policy above."""
    real = osp.realpath(path)
    env = {osp.realpath(p) for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p}
    if real in _explicitly_trusted or real in env:
        return True
    sidecar = path + TRUST_SUFFIX
    if not osp.isfile(sidecar):
        return False
    with open(sidecar) as f:
        recorded = f.read().strip()
    return hmac.compare_digest(recorded, _signature(_sha256_file(path)))


def _remove_stale_temporaries(path: str) -> None:
    """Removes ``.<name>.*.tmp`` left by a writer killed while writing ``path``."""
    directory, name = osp.split(osp.abspath(path))
    prefix = '.' + name + '.'
    for entry in os.listdir(directory):
        if entry.startswith(prefix) and entry.endswith('.tmp') \
                and re.fullmatch(r'[A-Za-z0-9_]+', entry[len(prefix):-4]):
            try:
                os.unlink(osp.join(directory, entry))
            except OSError:
                pass


def _atomic_write(path: str, data: bytes) -> None:
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp',
                               dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(directory)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def _fsync_directory(directory: str) -> None:
    """Makes a rename in ``directory`` durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str, text: str) -> None:
    """Writes a small text file (e.g. ``last_checkpoint``) atomically."""
    _atomic_write(path, text.encode('utf-8'))


_STEP_FILE = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def find_latest_checkpoint(path: str) -> Optional[str]:
    """The checkpoint ``--resume`` should continue from in work dir ``path``.

    Follows ``<path>/last_checkpoint`` like mmengine when it names an existing
    file. When the pointer is missing, empty or names a file that is gone, it
    falls back to the ``iter_N.pth`` / ``epoch_N.pth`` with the largest N that
    is complete (verified by its trust sidecar), so a run killed between
    writing a checkpoint and updating the pointer still resumes.
    """
    from mmengine.logging import print_log
    pointer = osp.join(path, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            last_saved = f.read().strip()
        if last_saved and ('://' in last_saved or osp.isfile(last_saved)):
            return last_saved
        print_log(f'{pointer} names {last_saved!r}, which does not exist; looking for '
                  'the newest complete checkpoint in the work dir.', logger='current')
    candidates = []
    if osp.isdir(path):
        for name in os.listdir(path):
            match = _STEP_FILE.fullmatch(name)
            if match:
                candidates.append((int(match.group(1)), osp.join(path, name)))
    for _, candidate in sorted(candidates, reverse=True):
        if osp.isfile(candidate + TRUST_SUFFIX) and is_trusted(candidate):
            return candidate
    print_log(f'Did not find a checkpoint to resume from in {path}.', logger='current')
    return None


def save_trusted_checkpoint(checkpoint: Any, path: str) -> None:
    """Writes ``checkpoint`` atomically and marks it as written by us.

    The sidecar is written after the checkpoint, so a kill in between leaves
    an untrusted (refused, never silently loaded) file rather than a trusted
    corrupt one.
    """
    with io.BytesIO() as buffer:
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
    _atomic_write(path, data)
    _atomic_write(path + TRUST_SUFFIX,
                  _signature(hashlib.sha256(data).hexdigest()).encode())


def load_checkpoint_file(path: str, map_location: Optional[Any] = None) -> Any:
    """Loads a local checkpoint under the trust policy of this module.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UntrustedCheckpointError: the file needs full unpickling and is not
            trusted; the message says how to allow it.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not is_trusted(path):
            raise UntrustedCheckpointError(
                f'Refused to unpickle checkpoint {path}: it holds Python objects '
                f'beyond tensors ({str(err).splitlines()[0]}) and was not written by '
                f'this plugin on this machine. Full unpickling can run arbitrary '
                f'code. If you trust this file, set {TRUST_ENV}={path} (paths '
                f'separated by "{os.pathsep}") or call '
                f'mmav_mask.utils.trust_checkpoint(path) before loading it.') from None
    return torch.load(path, map_location=map_location, weights_only=False)


def load_external_weights(path: str, map_location: Any = 'cpu') -> Any:
    """Loads foreign weights (e.g. an official VideoMAE file) tensors-only."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file {path} does not exist.')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UntrustedCheckpointError(
            f'Refused to load {path} with weights_only=True: '
            f'{str(err).splitlines()[0]}. External weights must be plain tensors; '
            f'if you trust this file, re-save its state_dict with torch.save.') from None
