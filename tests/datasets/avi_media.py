"""Ground-truth AVI clips packed as UCF101's are (written with PyAV).

UCF101's AVIs (MEncoder, XVID + MP3) hold MPEG-4 part 2 video with two
B-frames per anchor in *packed bitstream* form: the AVI has one chunk per
display slot, chunk k is presented at k / fps, and the frame shown for chunk k
is display frame k. To make that possible with B-frames, an anchor is stored
together with the first B-frame that precedes it in display order ("P3+B1",
"B2", then a 6-byte not-coded VOP where P3 is shown), and a ``DivX...p`` user
data string tells decoders the stream is packed.

:func:`make_packed_avi` encodes frames with FFmpeg's ``mpeg4`` encoder (B-frames
on), repacks its packets that way and writes them with an audio track whose
click starts exactly at the flash frame's presentation time, so a reader's
clock can be checked against a known answer.
"""
from __future__ import annotations

from fractions import Fraction
from typing import List, Optional, Tuple

import av
import numpy as np

from media_utils import click_signal

VOP = b'\x00\x00\x01\xb6'
USER_DATA = b'\x00\x00\x01\xb2'
# what marks a packed bitstream for decoders (DivX 5 style build string + 'p')
PACKED_MARK = USER_DATA + b'DivX503b1393p'
AUDIO_CODECS = {'mp3': 'libmp3lame', 'aac': 'aac'}


def _vop_types(data: bytes) -> str:
    """Coding types of the VOPs in a packet: 'I', 'P', 'B' or 'S' each."""
    out, i = [], data.find(VOP)
    while i >= 0:
        out.append('IPBS'[data[i + 4] >> 6])
        i = data.find(VOP, i + 4)
    return ''.join(out)


def _not_coded_vop(display_index: int, fps: int) -> bytes:
    """A P-VOP header with vop_coded=0 (a placeholder: "show the anchor").

    Bits: coding type 01, modulo_time_base 0, marker, vop_time_increment
    (as many bits as the encoder's time resolution, ``fps``, needs), marker,
    vop_coded 0, then start-code stuffing (a 0 and 1s to the byte boundary).
    """
    nbits = max(1, (fps - 1).bit_length())
    bits = '01' + '0' + '1' + format(display_index % fps, f'0{nbits}b') + '1' + '0'
    bits += '0' + '1' * ((8 - (len(bits) + 1) % 8) % 8)
    return VOP + int(bits, 2).to_bytes(len(bits) // 8, 'big')


def pack_bframes(packets: List[Tuple[bytes, str, int]], fps: int) -> List[Tuple[bytes, bool]]:
    """Decode-order packets -> one chunk per display slot (packed bitstream).

    Args:
        packets: ``(data, vop type, display index)`` in decode order.
        fps: frame rate (the VOP time resolution of FFmpeg's encoder).

    Returns:
        ``(chunk data, keyframe)`` per display slot.
    """
    chunks: List[Tuple[bytes, bool]] = []
    i = 0
    while i < len(packets):
        data, kind, disp = packets[i]
        bs = []
        j = i + 1
        while j < len(packets) and packets[j][1] == 'B':
            bs.append(packets[j][0])
            j += 1
        if not bs:
            chunks.append((data, kind == 'I'))
        else:
            # anchor + first B in one chunk, the other Bs alone, then a
            # placeholder in the slot where the anchor is shown
            chunks.append((data + bs[0], kind == 'I'))
            chunks.extend((b, False) for b in bs[1:])
            chunks.append((_not_coded_vop(disp, fps), False))
        i = j
    return chunks


def _encode_video(num_frames: int, fps: int, size: Tuple[int, int], flash_frame: int,
                  b_frames: int) -> List[Tuple[bytes, str, int]]:
    """Frames (dark grey with a moving bar; ``flash_frame`` white) -> mpeg4
    packets in decode order as ``(data, type, display index)``."""
    width, height = size
    ctx = av.CodecContext.create('mpeg4', 'w')
    ctx.width, ctx.height, ctx.pix_fmt = width, height, 'yuv420p'
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.max_b_frames = b_frames
    ctx.gop_size = 300  # one keyframe per clip, as in UCF101's XVID files
    ctx.bit_rate = 400_000
    out = []
    for i in range(num_frames + 1):
        if i < num_frames:
            img = np.full((height, width, 3), 255 if i == flash_frame else 40, np.uint8)
            img[:, (3 * i) % width] = 120  # motion, so P/B frames carry data
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            frame.pts = i
            packets = ctx.encode(frame)
        else:
            packets = ctx.encode(None)
        for p in packets:
            data = bytes(p)
            out.append((data, _vop_types(data), int(p.pts)))
    # replace FFmpeg's build string by the packed-bitstream mark
    first = out[0][0]
    lavc = first.find(USER_DATA + b'Lavc')
    end = first.find(b'\x00\x00\x01', lavc + 4)
    first = first[:lavc] + PACKED_MARK + first[end:]
    out[0] = (first, out[0][1], out[0][2])
    return out


def make_packed_avi(path: str, *, fps: int = 25, num_frames: int = 100,
                    flash_frame: int = 50, size: Tuple[int, int] = (64, 48),
                    audio_codec: str = 'mp3', sample_rate: int = 44100,
                    channels: int = 2, b_frames: int = 2, packed: bool = True,
                    click_time: Optional[float] = None, seed: int = 0) -> dict:
    """Write an AVI (mpeg4 'XVID' with B-frames + MP3 or AAC) with a known answer.

    Args:
        path: output .avi.
        fps: frame rate.
        num_frames: number of video frames.
        flash_frame: display index of the white frame.
        size: (width, height).
        audio_codec: 'mp3' (LAME) or 'aac' (FFmpeg's encoder).
        sample_rate: audio rate in Hz.
        channels: 1 or 2.
        b_frames: B-frames between anchors.
        packed: packed bitstream (UCF101); False keeps FFmpeg's decode-order
            packets (one per chunk, no placeholders).
        click_time: click start in seconds (default: the flash's time,
            ``flash_frame / fps``, which is when chunk ``flash_frame`` is shown).
        seed: noise seed.

    Returns:
        ``dict(path, flash_time, click_time, fps, chunk_types)``: the true
        presentation time of the flash and the click start, in seconds from the
        first video frame.
    """
    packets = _encode_video(num_frames, fps, size, flash_frame, b_frames)
    if packed:
        chunks = pack_bframes(packets, fps)
    else:
        chunks = [(d, t == 'I') for d, t, _ in packets]
    flash_time = flash_frame / fps
    click = flash_time if click_time is None else click_time
    with av.open(path, mode='w', format='avi') as container:
        vs = container.add_stream('mpeg4', rate=fps)
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], 'yuv420p'
        vs.codec_tag = 'XVID'
        vs.time_base = Fraction(1, fps)
        astream = container.add_stream(AUDIO_CODECS[audio_codec], rate=sample_rate)
        astream.layout = 'stereo' if channels == 2 else 'mono'
        # video chunks: AVI time is the chunk count, i.e. chunk k at k / fps
        vpackets = []
        for k, (data, key) in enumerate(chunks):
            p = av.Packet(data)
            p.pts = p.dts = k
            p.time_base = Fraction(1, fps)
            p.is_keyframe = key
            p.stream = vs
            vpackets.append(p)
        signal = click_signal(sample_rate, num_frames / fps, [click], channels, seed=seed)
        apackets = []
        step = 1152 if audio_codec == 'mp3' else 1024
        for s in range(0, signal.shape[1] + step, step):
            frame = None
            if s < signal.shape[1]:
                chunk = np.ascontiguousarray(signal[:, s:s + step], dtype=np.float32)
                if chunk.shape[1] < step:
                    chunk = np.pad(chunk, ((0, 0), (0, step - chunk.shape[1])))
                fmt = 'fltp' if audio_codec == 'aac' else 's16p'
                if fmt == 's16p':
                    chunk = (np.clip(chunk, -1, 1) * 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(chunk, format=fmt,
                                                   layout=astream.layout.name)
                frame.sample_rate = sample_rate
                frame.pts = s
                frame.time_base = Fraction(1, sample_rate)
            apackets.extend(astream.encode(frame))
            if frame is None:
                break
        # interleave by time, as an AVI muxer would (audio first at equal times)
        order = sorted([(float(p.dts * p.time_base), 0, n) for n, p in enumerate(apackets)] +
                       [(k / fps, 1, k) for k in range(len(vpackets))])
        for _, kind, n in order:
            container.mux(apackets[n] if kind == 0 else vpackets[n])
    return dict(path=path, flash_time=flash_time, click_time=click, fps=fps,
                chunk_types=[_vop_types(d) for d, _ in chunks])
