"""Atomic file output: write to a temporary file beside the target, then rename it into place."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # pandas is only the argument type here; importing it would slow every command's start
    import pandas as pd


def write_atomic(path: str | os.PathLike[str], data: str | bytes | Callable[[IO[bytes]], None]) -> Path:
    """Write ``data`` (text as UTF-8, bytes, or a function writing to the open binary file) to ``path``:
    readers see the old file or the whole new one.

    An interrupted write leaves no file behind at ``path`` (and removes its temporary file).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; give it the permissions an ordinary new file would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write ``frame`` as CSV (no index) atomically, streaming it to the file rather than building one string; text
    cells a spreadsheet would take for formulas are quoted (:func:`mixsim.tables.spreadsheet_safe`)."""

    from mixsim.tables import spreadsheet_safe  # deferred: it loads pandas, which this module's importers may not need

    def write(handle: IO[bytes]) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        spreadsheet_safe(frame).to_csv(text, index=False, lineterminator="\n")
        text.flush()
        text.detach()  # leave the file open for write_atomic to sync and close

    return write_atomic(path, write)
