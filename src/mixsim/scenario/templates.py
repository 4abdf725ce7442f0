"""Starter scenarios: the shipped scenarios, installed with the package, to copy and edit.

Each shipped scenario is a commented TOML file whose comments say where its figures come from; a template is
one of them, written where the user wants it (``mixsim new --template NAME``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from mixsim._files import write_atomic
from mixsim.errors import InputError

__all__ = ["list_templates", "template_text", "write_template"]


def _folder() -> resources.abc.Traversable:
    return resources.files("mixsim") / "scenarios"


def list_templates() -> dict[str, str]:
    """The templates: name -> its one-line description (the scenario's first comment line), sorted by name."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            lines = entry.read_text(encoding="utf-8").splitlines()
            out[entry.name.removesuffix(".toml")] = lines[0].lstrip("# ").strip() if lines else ""
    return out


def template_text(name: str) -> str:
    """The text of template ``name``: a commented scenario file.

    Raises
    ------
    InputError
        For an unknown name, listing the known ones.
    """
    names = list_templates()
    if name not in names:
        raise InputError(f"template {name!r}: no such template; choose one of {', '.join(names)}")
    return (_folder() / f"{name}.toml").read_text(encoding="utf-8")


def write_template(name: str, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write template ``name`` to ``path`` (atomically); an existing file is kept unless ``overwrite``.

    Parameters
    ----------
    name : str
        One of :func:`list_templates`.
    path : str or os.PathLike
        Where to write it; missing folders are created.
    overwrite : bool, default=False
        Whether to replace a file that exists.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        For an unknown name, or a file that exists (without ``overwrite``).
    """
    text = template_text(name)
    target = Path(path)
    if target.exists() and not overwrite:
        raise InputError(f"{target}: exists; choose another path, or pass overwrite=True to replace it")
    return write_atomic(target, text)
