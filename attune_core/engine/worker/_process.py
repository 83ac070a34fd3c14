"""A child process watched from the asyncio event loop: its exit, its output pipes, its stdin.

An action process costs the engine one ``fork``/``exec`` and a few callbacks, nothing more:
asyncio's own subprocess support (what anyio uses) starts a thread per process to wait for it
(Python 3.11's ``ThreadedChildWatcher``) and a task per pipe, which cost more than the spawn.

Rules of this file:

1. No thread and no task per process. The exit is seen through a pidfd (Linux >= 5.3) the
   loop watches; the pipes are non-blocking and read by loop callbacks into their
   :class:`~attune_core.engine.worker._output.OutputCapture`; stdin is written the same way.
   Without pidfds (another OS), one daemon thread per process waits for it instead.
2. The process is reaped by :class:`subprocess.Popen` (``poll``) once the pidfd says it exited,
   so its exit code is exact and no other waiter is involved.
3. Waiting never cancels the shared futures: :meth:`ChildProcess.wait` and
   :meth:`ChildProcess.wait_drained` use :func:`asyncio.wait`, so a caller cancelled while
   waiting (a cancel scope) leaves the process watched, and :meth:`ChildProcess.close` can
   still be awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import IO

from attune_core.engine.worker._output import OutputCapture

__all__ = ["ChildProcess"]

_READ_SIZE = 65_536


class ChildProcess:
    """Spawn ``argv`` and watch it from the running loop.

    Args:
        argv: The program and its arguments.
        cwd: The working directory.
        env: The whole environment of the process.
        stdin_payload: Written to the process's stdin, which is then closed; ``None`` gives it
            ``/dev/null``.
        stdout: Where the process's stdout goes.
        stderr: Where the process's stderr goes.

    Raises:
        OSError: The process could not be started (the program is missing, not executable...).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None,
        env: Mapping[str, str],
        stdin_payload: bytes | None,
        stdout: OutputCapture,
        stderr: OutputCapture,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._popen = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin_payload is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
            bufsize=0,
        )
        self.pid = self._popen.pid
        self._exited = self._loop.create_future()
        self._drained = self._loop.create_future()
        self._open_pipes = 0
        self._files: list[IO[bytes]] = []
        self._watch_exit()
        for pipe, capture in ((self._popen.stdout, stdout), (self._popen.stderr, stderr)):
            assert pipe is not None
            self._read(pipe, capture)
        if self._open_pipes == 0:
            self._drained.set_result(None)
        if stdin_payload is not None:
            assert self._popen.stdin is not None
            self._write(self._popen.stdin, memoryview(stdin_payload))

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has exited and been reaped (negative: a signal)."""
        return self._popen.returncode if self._exited.done() else None

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until the process exits or ``timeout`` seconds pass; True when it exited."""
        if not self._exited.done():
            await asyncio.wait((self._exited,), timeout=timeout)
        return self._exited.done()

    async def wait_drained(self, timeout: float | None = None) -> bool:
        """Wait until both output pipes reached their end (every holder closed them) or
        ``timeout`` seconds pass; True when they did."""
        if not self._drained.done():
            await asyncio.wait((self._drained,), timeout=timeout)
        return self._drained.done()

    def close(self) -> None:
        """Stop watching the pipes and close them (what was read stays in the captures)."""
        for file in self._files:
            fd = file.fileno() if not file.closed else -1
            if fd >= 0:
                self._loop.remove_reader(fd)
                self._loop.remove_writer(fd)
            file.close()
        self._files.clear()
        if not self._drained.done():
            self._drained.set_result(None)

    # -- exit ----------------------------------------------------------------------------------

    def _watch_exit(self) -> None:
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            threading.Thread(target=self._wait_in_thread, daemon=True).start()
            return

        def exited() -> None:
            self._loop.remove_reader(pidfd)
            os.close(pidfd)
            self._popen.wait()  # already exited: reaps it at once
            self._exited.set_result(None)

        self._loop.add_reader(pidfd, exited)

    def _wait_in_thread(self) -> None:
        self._popen.wait()
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits anymore
            self._loop.call_soon_threadsafe(self._set_exited)

    def _set_exited(self) -> None:
        if not self._exited.done():
            self._exited.set_result(None)

    # -- pipes ---------------------------------------------------------------------------------

    def _read(self, pipe: IO[bytes], capture: OutputCapture) -> None:
        fd = pipe.fileno()
        os.set_blocking(fd, False)
        self._files.append(pipe)
        self._open_pipes += 1

        def readable() -> None:
            while True:
                try:
                    chunk = os.read(fd, _READ_SIZE)
                except BlockingIOError:
                    return
                except OSError:
                    chunk = b""
                if not chunk:
                    self._loop.remove_reader(fd)
                    self._open_pipes -= 1
                    if self._open_pipes == 0 and not self._drained.done():
                        self._drained.set_result(None)
                    return
                capture.feed(chunk)
                if len(chunk) < _READ_SIZE:
                    return  # the pipe is most likely empty: wait for the next wake-up

        self._loop.add_reader(fd, readable)

    def _write(self, pipe: IO[bytes], payload: memoryview) -> None:
        fd = pipe.fileno()
        os.set_blocking(fd, False)
        self._files.append(pipe)
        pending = [payload]

        def finish() -> None:
            self._loop.remove_writer(fd)
            self._files.remove(pipe)
            pipe.close()

        def writable() -> None:
            data = pending[0]
            while data:
                try:
                    written = os.write(fd, data)
                except BlockingIOError:
                    break
                except OSError:
                    # The action exited (or closed stdin) without reading its parameters:
                    # its choice.
                    data = data[:0]
                    break
                data = data[written:]
            pending[0] = data
            if data:
                self._loop.add_writer(fd, writable)
            else:
                finish()

        writable()
