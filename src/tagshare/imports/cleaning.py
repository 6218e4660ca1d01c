"""Reading and cleaning an import's rows, in a second process when the file is big.

Cleaning a row (parsing, catalog rules, match keys) is pure Python and most of an import's
validation; the process that imports is also staging the rows in the database. A big file is
therefore read by a child process (`python -m tagshare.imports.cleaning`) that sends the rows
back cleaned, a chunk at a time, while the parent stages the previous chunk: the two share the
machine's cores. Not `multiprocessing`: a Celery prefork worker is a daemonic process, and those
may not start multiprocessing children; a plain subprocess they may.

The child writes frames to a pipe of their own (not stdout, where anything that prints, from a
library to a profiler, would corrupt them), each a kind byte, a 4-byte length and a pickle:
- `P`: the chunk's problems, [(row number, field, message), ...], a row repeating an earlier
  valid row's email or unique ID among them;
- `R`: the chunk's valid rows, [(row number, values, tags), ...], values carrying MATCH_KEYS;
  the parent keeps these bytes as they are for its spool (`services._Spool`).
A chunk covers consecutive rows of the file; its `P` frame comes before its `R` frame.
Only the parent touches the database; the child reads the file it is given and nothing else.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import json
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

CHUNK = 1000
_HEAD = struct.Struct("<cI")

# Rows as the spool stores them: (row number, values, tags).
SpooledRow = tuple[int, dict[str, Any], list[str]]


@dataclass
class Chunk:
    """Consecutive rows of the file, cleaned: the valid ones and the problems, in file order
    within each list. `spooled` is `rows` already pickled (from the child), or None."""

    rows: list[SpooledRow] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    spooled: bytes | None = None


class CleaningFailed(Exception):
    """The child process stopped without finishing the file. `reason` is short and safe to
    show a user; the message adds what the child wrote on stderr, for the server's log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def cleaned_chunks(
    path: Path, mapping: dict[int, str], region: str, *, in_child: bool
) -> Generator[Chunk, None, None]:
    """The file's rows, cleaned, a chunk at a time: in a child process, or in this one."""
    if in_child:
        return _from_child(path, mapping, region)
    return _chunks(path, mapping, region)


def _chunks(path: Path, mapping: dict[int, str], region: str) -> Generator[Chunk, None, None]:
    from tagshare.imports import reader
    from tagshare.matching.normalise import match_keys
    from tagshare.people.bulk import MATCH_KEYS

    chunk = Chunk()
    # Every email and unique ID of the file's valid rows so far -> the row that holds it. Here
    # rather than in the importing process: the file passes through here in order, and on a big
    # file this is a core of its own.
    seen: dict[tuple[str, ...], int] = {}
    for item in reader.read_rows(path, mapping):
        if isinstance(item, reader.RowProblem):
            chunk.problems.append((item.number, item.field, item.message))
            continue
        keys = row_keys(item.values)
        repeat = next((key for key in keys if key in seen), None)
        if repeat is not None:
            chunk.problems.append(
                (
                    item.number,
                    repeat[0],
                    f"has the same {repeat[0]} as row {seen[repeat]} ({repeat[1]})",
                )
            )
        else:
            for key in keys:
                seen[key] = item.number
            item.values[MATCH_KEYS] = match_keys(item.values, region)
            chunk.rows.append((item.number, item.values, item.tags))
        if len(chunk.rows) + len(chunk.problems) >= CHUNK:
            yield chunk
            chunk = Chunk()
    if chunk.rows or chunk.problems:
        yield chunk


def row_keys(row: dict[str, Any]) -> list[tuple[str, ...]]:
    """The keys no two rows of one file may share: each email (normalised), and each unique ID
    with the parts of the registered address it is unique within (SPEC §8)."""
    from tagshare.people import catalog, values

    keys: list[tuple[str, ...]] = []
    for name in catalog.EMAIL_FIELDS:
        if row.get(name):
            keys.append(("email", values.normalise_email(row[name])))
    if catalog.UNIQUE_ID_SET.isdisjoint(row):
        return keys
    for name in catalog.UNIQUE_IDS:
        if row.get(name):
            registered = row.get("registered_address") or {}
            scope = tuple(
                registered.get(c.split("_", 1)[1], "") for c in catalog.get(name).unique_with
            )
            keys.append((name, str(row[name]), *scope))
    return keys


def _from_child(path: Path, mapping: dict[int, str], region: str) -> Generator[Chunk, None, None]:
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "tagshare.settings")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as errors:
        frames_in, frames_out = os.pipe()
        _widen(frames_in)
        try:
            child = subprocess.Popen(
                _command(path, region, frames_out),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env=env,
                pass_fds=(frames_out,),
            )
        except BaseException:
            os.close(frames_in)
            raise
        finally:
            os.close(frames_out)  # the child holds its own copy: EOF when it exits
        assert child.stdin is not None
        finished = False
        broken: str | None = None  # what went wrong on our side of the pipe, if anything
        with io.BufferedReader(_Patient(frames_in), buffer_size=PIPE_BYTES) as frames:
            try:
                try:
                    child.stdin.write(json.dumps(mapping).encode())
                    child.stdin.close()
                except BrokenPipeError:
                    pass  # the child is gone already: its exit code and stderr say why
                try:
                    yield from _read_frames(frames)
                except _Truncated as exc:
                    broken = str(exc)
                except _Silent as exc:
                    broken = str(exc)
                    child.kill()
                finished = True
            finally:
                if not finished:
                    child.kill()  # the import stopped early (an error): the rest is not wanted
                code = child.wait()
        if code != 0 or broken:
            errors.seek(0)
            tail = errors.read()[-2000:].decode("utf-8", "replace").strip()
            reason = broken or f"exit {code}"
            raise CleaningFailed(
                f"the process reading the file stopped ({reason}): {tail or 'it said nothing'}",
                reason,
            )


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process


def _widen(pipe: int) -> None:
    """Let the child run a few chunks ahead: with the default 64 KiB it waited on every chunk
    while the import was busy writing the one before."""
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only; elsewhere the default will do
    if resize is not None:  # a lower ceiling (OSError): the default will do too
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe, resize, PIPE_BYTES)


class _Truncated(Exception):
    """The frames stopped in the middle of one."""


class _Silent(Exception):
    """The child sent nothing for SILENCE seconds while the import waited for it."""


# A chunk takes the child tens of milliseconds; this long with nothing to read is a hung child,
# and the job must end (failed, with nothing written) rather than show "running" for ever.
SILENCE = 300.0


class _Patient(io.RawIOBase):
    """The frames pipe, read with a limit on how long one read may wait (`_Silent`).

    Only the waits of the import for the child count: while the import is busy writing, the
    child waits on a full pipe, which is no sign of trouble."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: Any) -> int:
        ready, _, _ = select.select([self._fd], [], [], SILENCE)
        if not ready:
            raise _Silent(f"it sent nothing for {SILENCE:g} seconds and was stopped")
        data = os.read(self._fd, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _command(path: Path, region: str, frames: int) -> list[str]:
    return [sys.executable, "-m", "tagshare.imports.cleaning", str(path), region, str(frames)]


def _read_frames(stream: IO[bytes]) -> Iterator[Chunk]:
    chunk = Chunk()
    while head := stream.read(_HEAD.size):
        if len(head) != _HEAD.size:
            raise _Truncated("its output ends in a frame's header")
        kind, size = _HEAD.unpack(head)
        data = stream.read(size)
        if len(data) != size:
            raise _Truncated("its output ends in the middle of a chunk")
        if kind == b"P":
            chunk.problems = pickle.loads(data)
        else:  # R: the chunk's rows, which end it
            chunk.rows, chunk.spooled = pickle.loads(data), data
            yield chunk
            chunk = Chunk()


def _send(out: IO[bytes], kind: bytes, items: list[Any]) -> None:
    data = pickle.dumps(items, pickle.HIGHEST_PROTOCOL)
    out.write(_HEAD.pack(kind, len(data)))
    out.write(data)


def main() -> None:
    import django

    django.setup()
    # Short-lived and allocating only per chunk: the cyclic collector would walk every row.
    gc.disable()
    path, region, frames = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    mapping = {int(index): target for index, target in json.load(sys.stdin).items()}
    with os.fdopen(frames, "wb") as out:
        for number, chunk in enumerate(_chunks(path, mapping, region)):
            if chunk.problems:
                _send(out, b"P", chunk.problems)
            _send(out, b"R", chunk.rows)
            if number % 100 == 99:
                gc.collect()


if __name__ == "__main__":
    main()
