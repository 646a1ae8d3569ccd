"""One writer per journal file: an OS lock on a file beside it (``<journal>.lock``).

The lock is ``flock`` on the lock file, so the operating system drops it when its holder
ends in any way (exit, crash, SIGKILL): a lock left by a process that is gone is simply taken
over. The file's content names the holder (pid, host, start time) for the error shown to a
second opener, and says whether the holder closed the journal cleanly (``"state": "closed"``)
or not (``"open"``), which the journal uses to notice a ``-wal`` file removed after a crash.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import time
from typing import IO, Any

from .errors import JournalError, JournalLockedError

_fcntl: Any
try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock (documented)
    _fcntl = None

__all__ = ["JournalLock"]


class JournalLock:
    """The lock of the journal at ``path``, held from construction until :meth:`release`.

    ``previous`` is what the last holder wrote (``{}`` for a new lock file).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock_path = path + ".lock"
        self._file: IO[str] | None = None
        why: str | None = None
        try:
            self._file = open(self.lock_path, "a+", encoding="utf-8")
        except OSError as exc:
            why = _why(exc)
        if self._file is None:
            raise JournalError(path, f"cannot create its lock file: {why}")
        self.previous: dict[str, Any] = {}
        try:
            self._acquire()
            self._file.seek(0)
            self.previous = _parse(self._file.read())
            self._write("open")
        except BaseException:
            with contextlib.suppress(OSError):  # a full disk fails the flush again
                self._file.close()
            self._file = None
            raise

    def _acquire(self) -> None:
        assert self._file is not None
        if _fcntl is None:
            return
        try:
            _fcntl.flock(self._file.fileno(), _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except BlockingIOError:
            locked = True
        except OSError as exc:
            failure = JournalError(self.path, f"cannot lock it: {_why(exc)}")
            locked = False
        else:
            return
        if not locked:
            raise failure
        self._file.seek(0)
        holder = _parse(self._file.read())
        since = holder.get("since")
        raise JournalLockedError(
            self.path,
            pid=holder.get("pid") if isinstance(holder.get("pid"), int) else None,
            host=holder.get("host") if isinstance(holder.get("host"), str) else None,
            since=(
                datetime.datetime.fromtimestamp(since, datetime.UTC)
                if isinstance(since, int | float)
                else None
            ),
        )

    def _write(self, state: str) -> None:
        assert self._file is not None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            self._file.seek(0)
            self._file.truncate()
            self._file.write(json.dumps({**holder, "state": state}))
            self._file.flush()
        except OSError as exc:
            why = _why(exc)
        else:
            return
        raise JournalError(self.path, f"cannot write its lock file: {why}")

    @property
    def held(self) -> bool:
        return self._file is not None

    def mark_closed(self) -> None:
        """Record that the journal was closed cleanly (everything is in its main file)."""
        with contextlib.suppress(JournalError):  # not recorded: the next opener is careful
            self._write("closed")

    def release(self) -> None:
        """Let go of the lock (the operating system drops it when the file is closed)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
