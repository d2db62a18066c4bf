"""A local SMTP sink for `make bench`: accepts every message on 127.0.0.1, keeps none of them,
and writes how many it has accepted to a file (the bench reads it to know when all arrived).

    python -m jarfalla.bench.smtpsink --port 2525 --count-file var/bench/run/smtp-count

Stdlib only and deliberately minimal (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no
parsing of the message): the reminder scenario compares the dispatcher with sending straight
to this sink, so the sink's own cost should be as small as possible. aiosmtpd, which the tests
use, parses every line in Python and costs more per message than the sender does."""

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path

from jarfalla.bench.safety import LOCAL_HOST

# Large enough for any message the product sends (a reminder with a calendar attachment).
MAX_MESSAGE = 32 * 1024 * 1024
EHLO_REPLY = b"250-bench-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 33554432\r\n"


class Sink:
    def __init__(self) -> None:
        self.messages = 0

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"220 bench-sink ESMTP\r\n")
            await writer.drain()
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(EHLO_REPLY)
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    await read_data(reader)
                    self.messages += 1
                    writer.write(b"250 OK queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP: all fine
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def read_data(reader: asyncio.StreamReader) -> bytes:
    """Up to and including the line with a single dot (the message may be empty)."""
    data = b""
    while True:
        data += await reader.readuntil(b".\r\n")
        if data == b".\r\n" or data.endswith(b"\r\n.\r\n"):
            return data


def write_count(path: Path, count: int) -> None:
    # Write then rename, so a reader never sees half a number.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(str(count), encoding="ascii")
    os.replace(temporary, path)


def read_count(path: Path) -> int:
    try:
        return int(path.read_text(encoding="ascii") or 0)
    except (OSError, ValueError):
        return 0


async def serve(port: int, count_file: Path) -> None:
    sink = Sink()
    server = await asyncio.start_server(sink.session, LOCAL_HOST, port, limit=MAX_MESSAGE)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    written = -1
    write_count(count_file, 0)
    async with server:
        while not stop.is_set():
            if sink.messages != written:
                written = sink.messages
                write_count(count_file, written)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
    write_count(count_file, sink.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.count_file))


if __name__ == "__main__":
    main()
