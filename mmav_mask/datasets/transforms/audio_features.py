"""Audio feature transforms: ``AudioMFCC`` (TalkNet) and ``AudioFbank`` (CAV-MAE/MAViL).

Both turn ``results['audio']`` (num_clips, n_samples), made by
``LoadAlignedAudio``, into ``results['audio_feature']`` float32
(num_clips, L, F): time rows first, 100 rows per second (10 ms hop, row r
centred at r * 10 ms of the window). With ``num_rows`` set, each window's
feature is linearly resized along time to exactly ``num_rows`` rows, row r
sitting at relative time r / num_rows of the window, whatever the fps.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ..audio_io import single_threaded_torch

NORMS = (None, 'none', 'utterance', 'fixed')


def resize_rows(feat: np.ndarray, num_rows: int) -> np.ndarray:
    """Linear resize along time so output row r samples input position
    r * L_in / num_rows (relative time r / num_rows of the window).

    Args:
        feat: (L_in, F).
        num_rows: output rows.

    Returns:
        float32 (num_rows, F).
    """
    length = feat.shape[0]
    if length == num_rows:
        return feat.astype(np.float32, copy=False)
    if length == 0:
        return np.zeros((num_rows, feat.shape[1]), dtype=np.float32)
    x = np.arange(num_rows, dtype=np.float64) * length / num_rows
    i0 = np.clip(np.floor(x).astype(np.int64), 0, length - 1)
    i1 = np.minimum(i0 + 1, length - 1)
    w = (x - i0)[:, None]
    return ((1.0 - w) * feat[i0] + w * feat[i1]).astype(np.float32)


class BaseAudioFeature(BaseTransform):
    """Shared logic: per-clip valid length, time resize, normalisation.

    Args:
        sample_rate: rate of ``results['audio']`` (checked against
            ``results['audio_sample_rate']``). Defaults to 16000.
        hop_ms: row hop in milliseconds. Defaults to 10.
        num_rows: fixed number of time rows L, or None for the natural length
            (window duration / hop).
        norm: None/'none' (raw), 'utterance' (per clip and coefficient,
            zero mean and unit std over the clip's rows) or 'fixed'
            ((x - mean) / std with the given values).
        mean: scalar or per-bin sequence for ``norm='fixed'``.
        std: scalar or per-bin sequence for ``norm='fixed'``.
        eps: added to the std of ``'utterance'`` normalisation.
    """

    feat_dim: int = 0

    def __init__(self, sample_rate: int = 16000, hop_ms: float = 10.0,
                 num_rows: Optional[int] = None, norm: Optional[str] = None,
                 mean: Union[float, Sequence[float]] = 0.0,
                 std: Union[float, Sequence[float]] = 1.0, eps: float = 1e-5) -> None:
        if norm not in NORMS:
            raise ValueError(f'norm must be one of {NORMS}, got {norm!r}')
        if num_rows is not None and num_rows < 1:
            raise ValueError(f'num_rows must be >= 1 or None, got {num_rows}')
        self.sample_rate = int(sample_rate)
        self.hop = int(round(hop_ms * sample_rate / 1000.0))
        self.num_rows = num_rows
        self.norm = None if norm == 'none' else norm
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if self.norm == 'fixed' and np.any(self.std <= 0):
            raise ValueError('std must be positive for norm="fixed"')
        self.eps = eps

    def compute(self, wave: torch.Tensor) -> List[torch.Tensor]:
        """Features of a batch of waveforms.

        Args:
            wave: float32 (num_clips, n_samples).

        Returns:
            per clip a (rows, F) tensor with rows >= n_samples // hop, row r
            centred at sample r * hop.
        """
        raise NotImplementedError

    def _normalise(self, feat: np.ndarray) -> np.ndarray:
        if self.norm == 'utterance':
            # float64: constant bins (e.g. empty mel bands) must stay exactly 0
            f64 = feat.astype(np.float64)
            centred = f64 - f64.mean(axis=0, keepdims=True)
            return (centred / (f64.std(axis=0, keepdims=True) + self.eps)).astype(np.float32)
        if self.norm == 'fixed':
            return (feat - self.mean) / self.std
        return feat

    def _valid_rows(self, results: Dict, num_clips: int, default: int, rate: float) -> np.ndarray:
        """Natural row count of every clip's window (the window may be shorter
        than the padded array for variable frame rate)."""
        windows = results.get('audio_window')
        if windows is None:
            return np.full(num_clips, default, dtype=np.int64)
        rows = np.round((windows[:, 1] - windows[:, 0]) * rate).astype(np.int64)
        return np.clip(rows, 1, None)

    def _finish(self, feats: List[np.ndarray]) -> np.ndarray:
        """Normalise, resize or pad to a common length, stack to (C, L, F)."""
        feats = [self._normalise(f) for f in feats]
        if self.num_rows is not None:
            feats = [resize_rows(f, self.num_rows) for f in feats]
        length = max(f.shape[0] for f in feats)
        out = np.zeros((len(feats), length, feats[0].shape[1]), dtype=np.float32)
        for c, f in enumerate(feats):
            out[c, :f.shape[0]] = f
        return out

    def transform(self, results: Dict) -> Dict:
        """Add ``audio_feature`` float32 (num_clips, L, F)."""
        row_rate = self.sample_rate / self.hop
        valid = bool(results.get('audio_valid', True))
        if results.get('audio_feature_precomputed'):
            pre = results['audio_feature']
            num_clips = pre.shape[0]
            rows = np.asarray(results.get('audio_feature_rows',
                                          np.full(num_clips, pre.shape[1])))
            dim = pre.shape[2] or self.feat_dim
            if valid:
                feats = [np.asarray(pre[c, :rows[c]], dtype=np.float32) for c in range(num_clips)]
        else:
            if 'audio' not in results:
                raise KeyError(f'{self.__class__.__name__} needs results["audio"]: put '
                               'LoadAlignedAudio before it')
            audio = np.asarray(results['audio'], dtype=np.float32)
            if results.get('audio_sample_rate', self.sample_rate) != self.sample_rate:
                raise ValueError(f'audio is at {results["audio_sample_rate"]} Hz, '
                                 f'{self.__class__.__name__} expects {self.sample_rate} Hz')
            num_clips = audio.shape[0]
            rows = self._valid_rows(results, num_clips, max(1, audio.shape[1] // self.hop),
                                    row_rate)
            dim = self.feat_dim
            if valid:
                with torch.no_grad(), single_threaded_torch():
                    full = self.compute(torch.from_numpy(audio))
                feats = [full[c][:rows[c]].numpy() for c in range(num_clips)]
        if not valid:
            # zeros (not the feature of silence) so the model can tell missing audio apart
            length = self.num_rows or int(rows.max())
            results['audio_feature'] = np.zeros((num_clips, length, dim), dtype=np.float32)
        else:
            results['audio_feature'] = self._finish(feats)
        results['audio_feature_precomputed'] = False
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_rows={self.num_rows}, norm={self.norm}, '
                f'sample_rate={self.sample_rate})')


@TRANSFORMS.register_module()
class AudioMFCC(BaseAudioFeature):
    """MFCC as TalkNet uses it: 13 coefficients, 25 ms window, 10 ms hop at
    16 kHz (100 rows/s, 4 rows per 25 fps frame), 26 mel bands, 512-point FFT.

    Required keys: ``audio`` (num_clips, n_samples) (or a precomputed
    ``audio_feature``), ``audio_valid``, ``audio_window`` optional.
    Added keys: ``audio_feature`` float32 (num_clips, L, 13).

    Args:
        n_mfcc: number of coefficients. Defaults to 13.
        n_mels: mel bands. Defaults to 26.
        win_ms: window length in ms. Defaults to 25.
        n_fft: FFT size. Defaults to 512.
        **kwargs: see :class:`BaseAudioFeature` (num_rows, norm, mean, std,
            sample_rate, hop_ms).
    """

    def __init__(self, n_mfcc: int = 13, n_mels: int = 26, win_ms: float = 25.0,
                 n_fft: int = 512, **kwargs) -> None:
        super().__init__(**kwargs)
        import torchaudio
        self.feat_dim = n_mfcc
        win = int(round(win_ms * self.sample_rate / 1000.0))
        self._mfcc = torchaudio.transforms.MFCC(
            sample_rate=self.sample_rate, n_mfcc=n_mfcc,
            melkwargs=dict(n_fft=max(n_fft, win), win_length=win, hop_length=self.hop,
                           n_mels=n_mels, center=True))

    def compute(self, wave: torch.Tensor) -> List[torch.Tensor]:
        """(C, n) -> per clip (n // hop + 1, n_mfcc), row r centred at r * hop."""
        return list(self._mfcc(wave).transpose(1, 2))


@TRANSFORMS.register_module()
class AudioFbank(BaseAudioFeature):
    """Kaldi log-mel filterbank as CAV-MAE/MAViL: 128 bins, 25 ms hanning
    window (Audiovisual MAE, Sec. 4.1: hamming), 10 ms shift,
    ``htk_compat=True``, dither 0, no energy.

    The waveform is reflect-padded by half a window on both sides so that
    row r is centred at r * 10 ms of the window (like the MFCC rows).
    CAV-MAE's AudioSet normalisation is ``norm='fixed', mean=-5.081,
    std=8.9698`` (2 x 4.4849).

    Required keys: as :class:`AudioMFCC`. Added keys: ``audio_feature``
    float32 (num_clips, L, 128).

    Args:
        num_mel_bins: mel bins. Defaults to 128.
        win_ms: window length in ms. Defaults to 25.
        window_type: Kaldi window name ('hanning', 'hamming', 'povey', ...).
        **kwargs: see :class:`BaseAudioFeature`.
    """

    def __init__(self, num_mel_bins: int = 128, win_ms: float = 25.0,
                 window_type: str = 'hanning', **kwargs) -> None:
        super().__init__(**kwargs)
        if window_type not in ('hanning', 'hamming', 'povey', 'rectangular', 'blackman'):
            raise ValueError(f'AudioFbank: unknown window_type {window_type!r}')
        self.feat_dim = num_mel_bins
        self.win_ms = win_ms
        self.window_type = window_type
        self.win = int(round(win_ms * self.sample_rate / 1000.0))

    def compute(self, wave: torch.Tensor) -> List[torch.Tensor]:
        """(C, n) -> per clip (n // hop + 1, num_mel_bins)."""
        from torchaudio.compliance import kaldi
        half = self.win // 2
        mode = 'reflect' if wave.shape[1] > half else 'constant'
        padded = F.pad(wave[:, None], (half, half), mode=mode)[:, 0]
        return [
            kaldi.fbank(p[None], htk_compat=True, sample_frequency=self.sample_rate,
                        use_energy=False, window_type=self.window_type,
                        num_mel_bins=self.feat_dim, dither=0.0,
                        frame_length=self.win_ms,
                        frame_shift=self.hop * 1000.0 / self.sample_rate)
            for p in padded
        ]
