"""Crash-safe run files: atomic whole-file writes and whole-line JSONL appends.

A run can be killed at any moment (preemption, OOM, Ctrl-C). The guarantees:
- `atomic_write_*`: a reader sees the old file or the new one, never a half-written one (temp file
  in the same directory, fsync, then `os.replace`, which is atomic on POSIX within one filesystem).
  The value is serialized before any file is opened, so a serializer error leaves nothing behind.
- `append_jsonl`: each row is one line written by one `write` call and fsynced, so a crash loses
  at most the row being written; a torn last line is fenced off by the next append and reported
  with its line number by `read_jsonl`.
Temp files are named `.<name>.<random>.tmp` beside their target (checkpoints too, see
xgen_cli/checkpoints.py); a process killed mid-write leaves one behind, and `remove_temp_files`
clears them when the run folder is next opened.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from xgen_cli.errors import XgenError

# mkstemp creates 0600 files; give run files the mode an ordinary open() would (0666 minus the
# umask) so shared output folders stay readable. Reading the umask means setting it, once, here.
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


def _dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, **kwargs)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` atomically when the block ends without an exception.

    The temp file lives in `path`'s own folder: `os.replace` is atomic only within one filesystem
    (a temp file in /tmp would be copied, not renamed, onto a run folder on another disk).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def sha256_file(path: str | os.PathLike) -> str:
    """The file's SHA-256, read in 16 MB blocks (a checkpoint may be tens of GB)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def new_folder(folder: str | os.PathLike, refuse: Callable[[Path], None]) -> Iterator[Path]:
    """A folder that appears whole or not at all: the body writes into a hidden work folder beside
    `folder` (yielded), which is renamed into place when the body returns and deleted when it raises.
    `refuse(folder)` raises if the folder may not be written (it exists): called before the body and
    again just before the rename, in case another process made it meanwhile. The folder gets the
    permissions mkdir would give it (mkdtemp's are owner-only; a cluster's other users read it)."""
    folder = Path(folder).expanduser().absolute()
    refuse(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        yield work
        refuse(folder)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(work, 0o777 & ~umask)
        os.rename(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _fsync_dir(folder.parent)


def remove_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Delete the `.<name>.<random>.tmp` files that killed writers left under `directory`.

    Only call this on a folder no live process writes to (RunDir.start holds its lock).
    """
    removed = []
    for tmp in Path(directory).rglob(".*.tmp"):
        if tmp.is_file():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically; creates parent directories."""
    data = text.encode("utf-8")
    with atomic_writer(path) as f:
        f.write(data)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Replace `path` with `obj` as indented JSON (non-ASCII kept as is, key order kept)."""
    atomic_write_text(path, _dumps(obj, indent=2, sort_keys=False) + "\n")


def write_jsonl(path: str | os.PathLike, rows: list[dict]) -> None:
    """Replace `path` with one JSON object per line, atomically."""
    atomic_write_text(path, "".join(_dumps(row) + "\n" for row in rows))


def append_jsonl(path: str | os.PathLike, row: dict) -> None:
    """Append `row` as one line (one write call), then fsync; creates parent directories."""
    path = Path(path)
    # json.dumps escapes newlines inside strings, so the row can never span two lines.
    data = (_dumps(row) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _FILE_MODE)
    try:
        size = os.fstat(fd).st_size
        if size:
            # A crash mid-append can leave a last line without its newline; start a fresh line so
            # this row is not glued onto it (read_jsonl then names the torn line alone).
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    data = b"\n" + data
        written = os.write(fd, data)
        while written < len(data):  # regular files write everything at once; this is a safety net
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Rows of a JSONL file, skipping blank lines; a malformed line is an XgenError naming it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise XgenError(f"{path} not found: check the path (is it a run directory?)") from None
    rows = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise XgenError(f"{path} line {number} is not valid UTF-8: fix or delete that line") from None
        except json.JSONDecodeError as e:
            raise XgenError(
                f"{path} line {number} is not valid JSON ({e.msg}): fix or delete that line"
            ) from None
        if not isinstance(row, dict):
            raise XgenError(
                f"{path} line {number} is a JSON {type(row).__name__}, not an object: fix or delete that line"
            )
        rows.append(row)
    return rows


def read_json(path: str | os.PathLike) -> Any:
    """A whole JSON file; a missing or malformed file is an XgenError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise XgenError(f"{path} not found: check the path (is it a run directory?)") from None
    except UnicodeDecodeError:
        raise XgenError(f"{path} is not valid UTF-8: restore or delete it") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise XgenError(
            f"{path} is not valid JSON ({e.msg}, line {e.lineno}): restore or delete it"
        ) from None
