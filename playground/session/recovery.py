"""Autosave and recovery: a crash or ``kill -9`` loses at most half a minute of work.

While the Session has unsaved changes or is training, ``Autosaver`` writes it (settings, weights,
optimizer state, cost history: a project file) every ``INTERVAL_MS`` at most, atomically, to
``recovery/session-<pid>.json`` in the user's data folder, with a small ``.meta.json`` beside it
(the project's own path, when it was written). The writing runs on a Python thread: the data it
writes is immutable (frozen specs, read-only arrays, a copied history). A clean quit removes the
files; the next start finds those of processes that are gone (``orphans``) and offers them back.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from core import io
from core.project import Project, load_project, save_project

INTERVAL_MS = 30_000


def recovery_folder() -> Path:
    """Where recovery files live: ``QStandardPaths.AppDataLocation``/recovery."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)) / "recovery"


@dataclass(frozen=True)
class Recovered:
    """The work of a process that did not quit cleanly."""

    path: Path  # its recovery project file
    project_path: str | None  # the file the work was saved to or opened from, if any
    written: float  # when, as time.time()

    def load(self) -> Project:
        return load_project(self.path)

    def discard(self) -> None:
        for file in (self.path, _meta_path(self.path)):
            file.unlink(missing_ok=True)


class Autosaver(QObject):
    """Writes ``session`` to its recovery file while there is work a crash would lose."""

    def __init__(self, session, folder: Path | None = None, interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.session = session
        self.folder = Path(folder) if folder is not None else recovery_folder()
        self.path = self.folder / f"session-{os.getpid()}.json"
        self.written_marker = None
        self.writer: threading.Thread | None = None
        self.error: str | None = None  # the last write's failure, if any (the app goes on)
        self.reported: str | None = None  # the failure last shown in the window
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_if_needed)
        self.timer.start()
        session.document_changed.connect(self._forget_if_saved)

    def _forget_if_saved(self) -> None:
        """Saved: the recovery file is older than the project, and must not be offered after a crash."""
        if self.written_marker is not None and not self.session.is_modified():
            self.wait()
            Recovered(self.path, None, 0.0).discard()
            self.written_marker = None

    def save_if_needed(self) -> bool:
        """Write if there is unsaved work that changed since the last write; True if a write started."""
        session = self.session
        if self.error is not None and self.error != self.reported:  # said once, on the UI thread
            self.reported = self.error
            session.notice.emit(f"The recovery copy of this work could not be written: {self.error}")
        marker = session.marker()
        if not session.is_modified() or marker == self.written_marker or session.busy:
            return False
        if self.writer is not None and self.writer.is_alive():
            return False  # the last one is still being written
        net = session.current_network()
        state = session.snapshot.trainer_state if session.snapshot is not None else None
        history = session.history.to_history() if net is not None else None
        args = (session.data, session.network, session.training, net, history, state)
        # the store's copy shares its read-only arrays; the runs are immutable: safe on another thread
        kept = {"checkpoints": session.checkpoints.copy() if net is not None and len(session.checkpoints) else None,
                "runs": session.runs, "target_cost": session.target_cost}
        meta = {"project_path": session.project_path, "written": time.time(), "pid": os.getpid()}
        self.written_marker = marker
        self.writer = threading.Thread(target=self._write, args=(args, kept, meta), name="autosave", daemon=True)
        self.writer.start()
        return True

    def _write(self, args, kept, meta) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save_project(self.path, *args, **kept)
            io.atomic_write(_meta_path(self.path), json.dumps(meta).encode("utf-8"))
            self.error = None
        except (OSError, ValueError) as error:
            self.error = str(error)

    def wait(self) -> None:
        if self.writer is not None:
            self.writer.join()

    def remove(self) -> None:
        """A clean quit: nothing to recover."""
        self.timer.stop()
        self.wait()
        Recovered(self.path, None, 0.0).discard()


def orphans(folder: Path | None = None) -> list[Recovered]:
    """Recovery files of processes that are gone, newest first."""
    folder = Path(folder) if folder is not None else recovery_folder()
    found = []
    for path in folder.glob("session-*.json"):
        if path.name.endswith(".meta.json"):
            continue
        try:
            meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
            pid = int(meta["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            meta, pid = {}, _pid_of(path)
        if pid is not None and (pid == os.getpid() or _alive(pid)):
            continue  # this window's own, or another window's, still running
        project_path = meta.get("project_path") if isinstance(meta.get("project_path"), str) else None
        written = meta.get("written") if isinstance(meta.get("written"), (int, float)) else path.stat().st_mtime
        found.append(Recovered(path, project_path, float(written)))
    return sorted(found, key=lambda r: -r.written)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


def _pid_of(path: Path) -> int | None:
    try:
        return int(path.stem.split("-", 1)[1])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
