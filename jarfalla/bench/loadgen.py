"""Load generators: wrk (preferred, from Debian) and a stdlib asyncio fallback.

Both run a fixed number of keep-alive connections for a fixed time and return the same
``LoadResult``: request count and rate, latency percentiles, and the count per HTTP status plus
socket errors (connect/read/write/timeout), so that every non-2xx/3xx answer is reported."""

import asyncio
import json
import math
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from jarfalla.bench.safety import require_local

LUA_SCRIPT = Path(__file__).with_name("report.lua")
MARKER = "BENCH_RESULT "


@dataclass
class LoadResult:
    generator: str
    duration_s: float
    requests: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def errors(self, expect: tuple[int, ...]) -> dict[str, int]:
        """non_2xx_3xx: answers outside 200-399; unexpected: 2xx/3xx other than ``expect``;
        socket: connections refused, reset or timed out."""
        return {
            "non_2xx_3xx": sum(n for code, n in self.statuses.items() if not 200 <= code < 400),
            "unexpected": sum(
                n for code, n in self.statuses.items() if 200 <= code < 400 and code not in expect
            ),
            "socket": sum(self.socket_errors.values()),
        }


def request_spec(method: str, headers: Mapping[str, str], body: str) -> str:
    """The request file report.lua reads: method, header lines, an empty line, the body."""
    lines = [method, *(f"{name}: {value}" for name, value in headers.items())]
    return "\n".join(lines) + "\n\n" + body


def parse_wrk_output(output: str) -> LoadResult:
    line = next((line for line in output.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no {MARKER.strip()} line:\n{output[-2000:]}")
    data = json.loads(line.removeprefix(MARKER))
    latency = data["latency_us"]
    requests = int(data["requests"])

    def ms(key: str) -> float | None:
        return latency[key] / 1000 if requests else None

    errors = data["errors"]
    return LoadResult(
        generator="wrk",
        duration_s=data["duration_us"] / 1e6,
        requests=requests,
        p50_ms=ms("p50"),
        p90_ms=ms("p90"),
        p99_ms=ms("p99"),
        mean_ms=ms("mean"),
        max_ms=ms("max"),
        statuses={int(code): int(n) for code, n in data["statuses"].items()},
        # "status" (>= 400) is already in the status counts.
        socket_errors={key: int(errors[key]) for key in ("connect", "read", "write", "timeout")},
    )


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_command(
    url: str, spec: Path, *, connections: int, threads: int, duration: float
) -> list[str]:
    return [
        wrk_path() or "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        # A slow page must show in the latencies, not vanish as a wrk timeout (default 2 s).
        "--timeout=30s",
        f"--script={LUA_SCRIPT}",
        url,
        "--",
        str(spec),
    ]


def run_wrk(
    url: str, spec: Path, *, connections: int, threads: int, duration: float, log: Path
) -> LoadResult:
    require_local("target URL", url)
    command = wrk_command(url, spec, connections=connections, threads=threads, duration=duration)
    completed = subprocess.run(  # noqa: S603 - our own argv
        command, capture_output=True, text=True, timeout=duration + 120, check=False
    )
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(command)}\n{completed.stdout}{completed.stderr}\n")
    if completed.returncode != 0:
        raise RuntimeError(f"wrk exited with {completed.returncode}: {completed.stderr[-500:]}")
    return parse_wrk_output(completed.stdout)


# --- The fallback: asyncio streams, keep-alive, stdlib only ------------------------------------


def percentile(sorted_values: list[float], percent: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)
    return sorted_values[rank]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the server keeps the connection open); the body is read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("connection closed")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close"
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif status not in (204, 304):
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def _client(
    host: str,
    port: int,
    request: bytes,
    deadline: float,
    latencies: list[float],
    statuses: Counter[int],
    errors: Counter[str],
) -> None:
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    while time.monotonic() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                errors["connect"] += 1
                await asyncio.sleep(0.05)
                continue
        assert reader is not None
        started = time.monotonic()
        try:
            writer.write(request)
            await writer.drain()
            status, keep_alive = await asyncio.wait_for(_read_response(reader), 30)
        except TimeoutError:
            errors["timeout"] += 1
            keep_alive = False
        except (OSError, ValueError, asyncio.IncompleteReadError):
            errors["read"] += 1
            keep_alive = False
        else:
            latencies.append(time.monotonic() - started)
            statuses[status] += 1
        if not keep_alive:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def run_python(
    url: str,
    method: str,
    headers: Mapping[str, str],
    body: str,
    *,
    connections: int,
    duration: float,
) -> LoadResult:
    """The fallback when wrk is missing. It shares the two cores with the server, so its
    numbers are lower than wrk's; the generator is named in the output."""
    require_local("target URL", url)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    payload = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if payload:
        lines.append(f"Content-Length: {len(payload)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()

    async def main() -> float:
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(
                _client(host, port, request, deadline, latencies, statuses, errors)
                for _ in range(connections)
            )
        )
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    latencies.sort()

    def ms(value: float | None) -> float | None:
        return None if value is None else value * 1000

    return LoadResult(
        generator="python-asyncio",
        duration_s=elapsed,
        requests=len(latencies),
        p50_ms=ms(percentile(latencies, 50)),
        p90_ms=ms(percentile(latencies, 90)),
        p99_ms=ms(percentile(latencies, 99)),
        mean_ms=ms(sum(latencies) / len(latencies)) if latencies else None,
        max_ms=ms(latencies[-1]) if latencies else None,
        statuses=dict(statuses),
        socket_errors={key: errors[key] for key in ("connect", "read", "write", "timeout")},
    )
