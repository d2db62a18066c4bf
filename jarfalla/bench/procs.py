"""The processes the bench starts, each in its own process group, and their cleanup.

Every child gets a new session (so Ctrl-C in the terminal reaches only the bench, which then
stops the children in order) and is stopped by signalling its whole process group: gunicorn's
and Celery's workers go with their master. ``Processes.stop_all`` runs from ``finally``, from
``atexit`` and after SIGTERM/SIGHUP (turned into SystemExit so that ``finally`` runs)."""

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def children_of(pid: int) -> list[int]:
    """Direct children, from /proc (the kernel's list if it has one, else a scan)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in text.split()]
    except OSError:
        pass
    return [child for child, (_state, ppid, _pgrp) in _processes() if ppid == pid]


def _processes() -> Iterator[tuple[int, tuple[str, int, int]]]:
    """(pid, (state, ppid, process group)) of every process, from /proc/<pid>/stat."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses.
        state, ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        yield int(entry.name), (state, int(ppid), int(pgrp))


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB; empty if it is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0])
    except OSError:
        return {}
    return values


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.commands: dict[str, str] = {}
        atexit.register(self.stop_all)

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path
    ) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        try:
            process = subprocess.Popen(  # noqa: S603 - our own argv, never a shell
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.started.append((name, process))
        self.commands[name] = " ".join(argv)
        return process

    def check_alive(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; see {self.log_dir / name}.log"
                )

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM to each process group (last started first), SIGKILL to what is left."""
        while self.started:
            _name, process = self.started.pop()
            stop_group(process, timeout)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    return [pid for pid, (state, _ppid, pgrp) in _processes() if pgrp == pgid and state != "Z"]


def _signal_group(pgid: int, signum: int) -> None:
    # Linux never hands out a pid that is still a process group id, so while a member lives
    # (or the leader is an unreaped zombie) the group is ours; an empty group is left alone.
    if group_members(pgid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)


def stop_group(process: "subprocess.Popen[bytes]", timeout: float) -> None:
    """Stop a child started with start_new_session and everything in its process group.

    The leader is reaped only once the group is empty, so its pid (the group id) cannot be
    reused by an unrelated process while we still signal the group."""
    pgid = process.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def exit_on_signals() -> None:
    """SIGTERM and SIGHUP end the bench like Ctrl-C does: through ``finally``."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)
