"""Writing a file so that no reader ever sees half of it.

Snapshots, reports and summaries are written to a temporary file in the same
folder, then renamed over the target: a rename within a file system is
atomic, so an interrupted run leaves the old file or the new one, never a
mix. The file gets the usual 0644 (``mkstemp`` makes 0600), since these are
files to commit or to publish. A folder of files (a converted model, a
model organism) is filled in a temporary folder beside its place and renamed
into it the same way (:func:`write_folder_atomic`), with 0755.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through a temp file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def write_folder_atomic(path: Path) -> Iterator[Path]:
    """A new temporary folder beside ``path`` to fill in the ``with`` block; when the
    block ends without an error, it takes the place of ``path`` by renames (an old
    folder there is moved aside first and removed last), so an interrupted writer
    leaves the old folder or the new one, never half of one. On an error the
    temporary folder is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        _swap_folder(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_folder(new: Path, path: Path) -> None:
    """Rename ``new`` to ``path``; an old folder at ``path`` goes aside, then away
    (back in its place if the second rename fails)."""
    if not path.exists():
        os.replace(new, path)
        return
    old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
    try:
        os.replace(path, old)
    except BaseException:
        old.rmdir()
        raise
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_writable(path: Path) -> None:
    """Create and remove a temporary file beside ``path``: raises the OSError that
    writing it later would (permission denied, read-only file system, a folder
    such as /proc that takes no new files), so a run can stop before it starts."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
    os.close(fd)
    os.unlink(tmp)


def write_problem(path: Path, exc: OSError, other: str = "write it elsewhere") -> str:
    """Why ``path`` could not be written, and the fix, in one line: the OS's reason
    tied to the file or folder it is about (the OS names a temporary file, and
    says "file exists" for a file where a folder should be). ``other``: how the
    caller's user names another place, e.g. "pass another --behav-report path"."""
    folder = path.parent
    code = exc.errno
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError) or code == errno.ENOTDIR:
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        why = f"{blocker} is not a folder" if not blocker.is_dir() else reason
    elif code in (errno.EACCES, errno.EPERM):
        why = f"permission denied in folder {folder}"
    elif code == errno.EROFS:
        why = f"folder {folder} is on a read-only file system"
    elif code in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device of {folder} ({reason}); fix: free space, or {other}"
    elif code == errno.EISDIR:
        why = f"{path} is a folder"
    elif code == errno.ENOENT and folder.is_dir():
        why = f"folder {folder} takes no new files ({reason})"
    elif code == errno.ENOENT:
        why = f"folder {folder} does not exist"
    else:
        why = reason
    return f"{why}; fix: {other}"
