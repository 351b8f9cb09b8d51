"""Writing a file so that no reader ever sees half of it.

Snapshots, reports and summaries are written to a temporary file in the same
folder, then renamed over the target: a rename within a file system is
atomic, so an interrupted run leaves the old file or the new one, never a
mix. The file gets the usual 0644 (``mkstemp`` makes 0600), since these are
files to commit or to publish.
"""

from __future__ import annotations

import os
import tempfile
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
