"""The command's text reports (mixsim.cli.text): user strings reach the terminal escaped, never obeyed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SMALL_TOML

RunCli = Callable[..., tuple[int, str, str]]
EVIL = "evil\\u001b[31mRED\\u001b[0m\\u0007bell\\r\\nline2\\u202e"  # TOML escapes: ESC, BEL, CR, LF, RLO
SHOWN = "evil\\x1b[31mRED\\x1b[0m\\x07bell\\r\\nline2\\u202e"


@pytest.fixture
def evil_file(tmp_path: Path) -> Path:
    """The small scenario named with an escape sequence, a bell, a line break and a right-to-left override, and a
    budget group named with a terminal-title sequence."""
    text = SMALL_TOML.replace('name = "small"', f'name = "{EVIL}"')
    text += '\n[budget]\ntotal = 4000\n[[budget.groups]]\nname = "g\\u001b]0;title\\u0007p"\n'
    text += 'channels = ["tv", "search"]\nmax_share = 0.5\n'
    path = tmp_path / "evil.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _clean(text: str) -> None:
    assert not any(c in text for c in "\x1b\x07\r\u202e"), repr(text)


@pytest.mark.parametrize(
    "args",
    [
        ("simulate", "-r", "1"),
        ("attribution", "-r", "1"),
        ("compare", "-r", "1", "--vary", "channels.tv.spend=100,200"),
    ],
)
def test_a_scenario_s_name_is_shown_escaped(run_cli: RunCli, evil_file: Path, args: tuple[str, ...]) -> None:
    """Issue 15, point 7: the name's escape sequences are shown as text, and its line break does not break the
    report's line."""
    code, out, err = run_cli(*args, evil_file, "--workers", "1")
    assert code == 0, err
    _clean(out)
    line = next(li for li in out.splitlines() if "evil" in li)
    assert SHOWN in line
    assert not any(li.startswith("line2") for li in out.splitlines())


def test_a_group_s_name_is_shown_escaped_in_a_plan(run_cli: RunCli, evil_file: Path) -> None:
    quick = ("--workers", "1", "-r", "1", "--levels", "0,1,2", "--iterations", "1")
    code, out, err = run_cli("optimize", evil_file, *quick)
    assert code == 0, err
    _clean(out)
    assert "group g\\x1b]0;title\\x07p: max_share 0.5" in out
