"""Animations of a training run: frames (drawn by the app's views) written as an animated GIF or an MP4.

No Qt here: frames arrive as arrays. GIFs are encoded by Pillow through imageio, MP4s (H.264) by the
ffmpeg that the imageio-ffmpeg package ships.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.io import atomic_file

SUFFIXES = (".gif", ".mp4")
MAX_FPS = {".gif": 50, ".mp4": 120}  # GIF delays are in hundredths of a second; browsers slow shorter ones


def write_animation(path, frames, fps: float = 10) -> int:
    """Write ``frames``, each an (height, width, 3) uint8 RGB array of one size, as an animated GIF
    (looping) or an MP4, chosen by ``path``'s suffix, at ``fps`` frames a second; return how many.

    Frames are taken one at a time (a generator keeps memory low for MP4; a GIF is held until
    written). The file is replaced only once it is complete. GIF frames last whole hundredths of a
    second (fps 30 plays at 33); Pillow merges a frame identical to the one before into it. MP4 needs
    an even width and height. ValueError for a bad frame, size, rate or suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"cannot write {path.name!r}: unknown suffix {path.suffix!r}; "
                         f"expected one of {', '.join(SUFFIXES)}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= MAX_FPS[suffix]:
        raise ValueError(f"fps must be above 0 and at most {MAX_FPS[suffix]} for {suffix}, got {fps!r}")
    counted = _Checked(frames, even=suffix == ".mp4")
    with atomic_file(path) as tmp:
        (_write_gif if suffix == ".gif" else _write_mp4)(tmp, counted, fps)
        if counted.n == 0:
            raise ValueError("no frames to write")
    return counted.n


def _write_gif(path: Path, frames, fps: float) -> None:
    import imageio.v3 as iio

    with iio.imopen(path, "w", extension=".gif") as gif:
        for frame in frames:
            gif.write(frame, duration=1000 / fps, loop=0)


def _write_mp4(path: Path, frames, fps: float) -> None:
    import imageio_ffmpeg

    encoder = None
    try:
        for frame in frames:
            if encoder is None:  # quality 8 of 10 keeps thin curves and text sharp; block size 1 keeps the size
                encoder = imageio_ffmpeg.write_frames(str(path), (frame.shape[1], frame.shape[0]), fps=fps,
                                                      quality=8, macro_block_size=1)
                encoder.send(None)
            encoder.send(np.ascontiguousarray(frame))
    finally:
        if encoder is not None:
            encoder.close()  # waits for ffmpeg to finish, so nothing writes the file after an error


class _Checked:
    """Iterates over frames, checking each and counting them."""

    def __init__(self, frames, even: bool):
        self.frames, self.even, self.n, self.shape = frames, even, 0, None

    def __iter__(self):
        for frame in self.frames:
            frame = np.asarray(frame)
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"frame {self.n}: expected an (height, width, 3) uint8 array, got "
                                 f"{frame.dtype} of shape {frame.shape}")
            if self.shape is None:
                if self.even and (frame.shape[0] % 2 or frame.shape[1] % 2):
                    raise ValueError(f"an MP4 needs an even width and height, got {frame.shape[1]}×{frame.shape[0]}")
                self.shape = frame.shape
            elif frame.shape != self.shape:
                raise ValueError(f"frame {self.n} is {frame.shape[1]}×{frame.shape[0]}; the first was "
                                 f"{self.shape[1]}×{self.shape[0]}")
            self.n += 1
            yield frame
