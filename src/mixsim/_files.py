"""File output that readers never see half done: one file written to a temporary file beside it and renamed into
place (:func:`write_atomic`), and a set of files written into a hidden staging folder and moved into place together
once every one of them is complete (:func:`output_set`, and :func:`output_files` for files in several folders)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from mixsim._signals import uninterrupted
from mixsim.errors import InputError

if TYPE_CHECKING:  # pandas is only the argument type here; importing it would slow every command's start
    import pandas as pd

STAGING_PREFIX = ".mixsim-"
"""The start of a staging folder's name (``.mixsim-XXXXXXXX.tmp``, hidden, inside the folder written to)."""


def write_atomic(path: str | os.PathLike[str], data: str | bytes | Callable[[IO[bytes]], None]) -> Path:
    """Write ``data`` (text as UTF-8, bytes, or a function writing to the open binary file) to ``path``:
    readers see the old file or the whole new one.

    An interrupted write leaves no file behind at ``path`` (and removes its temporary file). A failed write (a full
    disk) raises an :class:`OSError` that names ``path``, not the temporary file.

    Raises
    ------
    InputError
        If ``path`` is a symbolic link, a device, a pipe or anything else but a regular file: it is never replaced.
    """
    target = Path(path)
    refuse_special(target)
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
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename in (None, tmp):  # a write or sync names no file, or the temporary one: name the target
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from None
        raise
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


def refuse_special(path: Path) -> None:
    """Refuse to write over anything at ``path`` but a regular file: a symbolic link (even to a regular file: the
    link would be replaced, not written through), a device such as ``/dev/stdout``, a pipe, a socket, a folder.

    Raises
    ------
    InputError
        Naming ``path`` and what it is.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError:  # a parent is a file: the write itself will say so
        return
    if stat.S_ISREG(mode):
        return
    raise InputError(f"{path}: is {_kind(mode)}, not a regular file: mixsim never writes over one")


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


@contextlib.contextmanager
def output_set(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """A set of files that lands in ``folder`` whole or not at all.

    Yields a new, hidden staging folder inside ``folder`` (created if missing): write every file of the set there.
    When the block ends without an error, each file is moved (renamed) into ``folder``, replacing the file of that
    name, with SIGINT and SIGTERM held back until the last one is in (see :func:`mixsim._signals.uninterrupted`);
    the other files in ``folder`` are left alone. If the block ends with an error or an interrupt, the staging
    folder is removed and ``folder`` is as it was (a ``folder`` this call created is removed again if it is empty).
    So a run interrupted while writing never leaves some files of its set beside files of an earlier run.

    An :class:`OSError` raised in the block that names a staged file is raised naming the file in ``folder`` instead.

    Raises
    ------
    InputError
        If a file of the set would replace anything but a regular file (a symbolic link, a device, a folder), before
        any file is moved.
    """
    target = Path(folder)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=".tmp", dir=target))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from None
    try:
        try:
            yield staging
        except OSError as exc:
            named = _unstaged(exc.filename, staging, target)
            if named is None:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), named) from None
        names = sorted(p.name for p in staging.iterdir())
        for name in names:
            refuse_special(target / name)
        with uninterrupted():
            for name in names:
                os.replace(staging / name, target / name)
            _sync(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):  # only if it is still empty
                target.rmdir()
        raise
    staging.rmdir()


@contextlib.contextmanager
def output_files(paths: Sequence[str | os.PathLike[str]]) -> Iterator[Callable[[Path], Path]]:
    """Files that land together, in one folder or several: :func:`output_set` for each folder the ``paths`` are in.

    Yields ``staged(path)``: where to write the file ``path`` (or another file beside one of ``paths``, such as a
    figure named after it) meanwhile. The folders' files are moved into place one folder after the other once the
    block ends without an error, with SIGINT and SIGTERM held back until the last is in.
    """
    with contextlib.ExitStack() as stack:
        staging: dict[Path, Path] = {}
        for path in map(Path, paths):
            folder = path.parent.resolve()
            if folder not in staging:
                staging[folder] = stack.enter_context(output_set(path.parent))

        def staged(path: Path) -> Path:
            return staging[Path(path).parent.resolve()] / Path(path).name

        yield staged
        with uninterrupted():  # publishing every folder, not some
            stack.close()


def _unstaged(filename: object, staging: Path, target: Path) -> str | None:
    """The file in ``target`` that a staged file stands for (None if ``filename`` is not in ``staging``)."""
    if not isinstance(filename, str):
        return None
    try:
        return str(target / Path(filename).relative_to(staging))
    except ValueError:
        return None


def _sync(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the system allows opening a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
