"""Starter scenarios: the shipped scenarios, installed with the package, to copy and edit.

Each shipped scenario is a commented TOML file whose comments say where its figures come from; a template is
one of them, written where the user wants it (``mixsim new --template NAME``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from mixsim._files import write_atomic
from mixsim.errors import MixsimError

__all__ = ["list_templates", "template_text", "write_template"]


def _folder() -> resources.abc.Traversable:
    return resources.files("mixsim") / "scenarios"


def list_templates() -> dict[str, str]:
    """Template name -> its one-line description (the scenario's first comment line), sorted by name."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            lines = entry.read_text(encoding="utf-8").splitlines()
            out[entry.name.removesuffix(".toml")] = lines[0].lstrip("# ").strip() if lines else ""
    return out


def template_text(name: str) -> str:
    """The text of template ``name``.

    Raises
    ------
    MixsimError
        For an unknown name, listing the known ones.
    """
    names = list_templates()
    if name not in names:
        raise MixsimError(f"--template {name}: no such template; choose one of {', '.join(names)}")
    return (_folder() / f"{name}.toml").read_text(encoding="utf-8")


def write_template(name: str, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write template ``name`` to ``path`` (atomically); an existing file is kept unless ``overwrite``.

    Raises
    ------
    MixsimError
        For an unknown name, or a file that exists.
    """
    text = template_text(name)
    target = Path(path)
    if target.exists() and not overwrite:
        raise MixsimError(f"--out {target}: exists; choose another name or pass --force")
    return write_atomic(target, text)
