"""Reading files whatever they are: only regular files are read, never more than a size cap, in chunks
between which a stop flag is checked. Loaders pass their documented error (``core.io.FormatError``,
``core.datasets.DatasetError``) as ``error``; this module depends on ``core.limits`` alone, so any
module can use it.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from . import limits


def file_name(path) -> str:
    """The file's name for a message, shortened if it is long."""
    return limits.one_line(Path(path).name or str(path), limits.EXCERPT_CHARS)


_NOT_REGULAR = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
                (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path, max_bytes: int, error=ValueError):
    """``path`` opened for reading in binary if it is a regular file of at most ``max_bytes``.

    Anything else raises ``error``: a missing or unreadable file, and a folder, FIFO, device or
    socket, which are refused before they are read (the file is opened non-blocking, so a FIFO
    without a writer never blocks, and /dev/zero is never read).
    """
    name = file_name(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        _check_regular(os.stat(path), name, error)  # before opening: opening some devices does things
        fd = os.open(path, flags)
    except OSError as failure:
        raise error(f"cannot read {name}: {failure.strerror or failure}") from None
    try:
        info = os.fstat(fd)
        _check_regular(info, name, error)  # what was opened, had the path changed since
        if info.st_size > max_bytes:
            raise error(f"{name} has {info.st_size:,} bytes; the limit for this file is {limits.size_text(max_bytes)}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_regular(info: os.stat_result, name: str, error) -> None:
    for is_kind, kind in _NOT_REGULAR:
        if is_kind(info.st_mode):
            raise error(f"cannot read {name}: it is {kind}, not a regular file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"cannot read {name}: not a regular file")


def read_file(path, max_bytes: int, error=ValueError, should_stop=None) -> bytes:
    """The whole of a regular file of at most ``max_bytes`` (see ``open_regular``), read in chunks
    between which ``should_stop`` is checked (``limits.Cancelled``). ``error`` for anything wrong."""
    chunks, size = [], 0
    with open_regular(path, max_bytes, error) as f:
        try:
            while chunk := f.read(min(limits.READ_CHUNK_BYTES, max_bytes + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise error(f"{file_name(path)} grew past {limits.size_text(max_bytes)} while being read")
                limits.check_stop(should_stop)
            return b"".join(chunks)
        except OSError as failure:
            raise error(f"cannot read {file_name(path)}: {failure.strerror or failure}") from None
        except MemoryError:
            raise error(f"cannot read {file_name(path)}: too large for the memory available") from None
