"""The docs say what the code does: their examples run, their synopses match ``--help``, their links resolve.

- Every ```` ```python ```` block of ``README.md`` and ``docs/*.md`` runs, in a fresh namespace and a temporary
  folder where ``scenarios/`` is the repository's. The fence's info string may add ``slow`` (the test carries the
  ``slow`` marker) or ``no-run`` (an illustration only: the test is skipped, saying so).
- Every ```` ```toml scenario ```` block is a valid scenario.
- Every command synopsis in ``docs/commands.md`` names the command's options exactly as ``mixsim CMD --help``
  does, and every option is described on the page.
- The README stays short; relative links resolve; nothing cites a file outside the repository.
- The public API's docstrings carry examples, and those run and print what they say.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

import mixsim
from conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = (README, *sorted(DOCS.glob("*.md")))
COMMANDS_PAGE = DOCS / "commands.md"
README_LIMIT = 8_000
"""Characters: the README says what mixsim is and how to start; the reference lives in docs/."""

GENERATED_ELSEWHERE = {DOCS / "scenario-keys.md"}
"""Pages written by a generator with its own test (the scenario-key reference, from the constraint table): a link
to one is not this file's to check when the page is absent."""

PYTHON_FLAGS = {"slow", "no-run"}
"""Words a ```` ```python ```` fence may add after the language."""


# ----------------------------------------------------------------------------------------------------------------
# Reading markdown


@dataclass(frozen=True)
class Block:
    """A fenced code block: the page, the line of its opening fence, its info string's words and its text."""

    page: Path
    line: int
    info: tuple[str, ...]
    text: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    opening: tuple[int, tuple[str, ...]] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        fence = re.match(r"^\s*```(.*)$", line)
        if fence is None:
            if opening is not None:
                body.append(line)
            continue
        if opening is None:
            opening, body = (number, tuple(fence.group(1).split())), []
        else:
            found.append(Block(page, opening[0], opening[1], "\n".join(body) + "\n"))
            opening = None
    assert opening is None, f"{page.relative_to(ROOT)}:{opening[0]}: a code fence is never closed"
    return found


def _prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return re.sub(r"^\s*```.*?^\s*```[^\n]*$", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)


def _python_blocks() -> list[Block]:
    return [b for page in PAGES for b in _blocks(page) if b.info[:1] == ("python",)]


def _block_param(block: Block) -> object:
    marks = [pytest.mark.slow] if "slow" in block.info else []
    return pytest.param(block, id=block.name, marks=marks)


# ----------------------------------------------------------------------------------------------------------------
# Code blocks


def test_there_are_python_examples() -> None:
    runnable = [b for b in _python_blocks() if "no-run" not in b.info]
    assert any(b.page == README for b in runnable), "the README has no runnable Python example"
    assert len(runnable) >= 10, f"only {len(runnable)} runnable Python blocks in README.md and docs/"


@pytest.mark.parametrize("block", _python_blocks(), ids=lambda b: b.name)
def test_python_fences_say_only_known_words(block: Block) -> None:
    unknown = set(block.info[1:]) - PYTHON_FLAGS
    assert not unknown, f"{block.name}: unknown word(s) {sorted(unknown)} after python (known: {sorted(PYTHON_FLAGS)})"


@pytest.mark.parametrize("block", [_block_param(b) for b in _python_blocks()])
def test_python_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if "no-run" in block.info:
        pytest.skip(f"{block.name} is marked no-run: an illustration, not an example to run")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    code = compile(block.text, block.name, "exec")
    exec(code, {"__name__": "__docs__"})


def _scenario_blocks() -> list[Block]:
    return [b for page in PAGES for b in _blocks(page) if b.info[:2] == ("toml", "scenario")]


def test_the_scenario_page_has_a_full_example() -> None:
    assert any(b.page == DOCS / "scenario.md" for b in _scenario_blocks()), "docs/scenario.md has no example file"


@pytest.mark.parametrize("block", _scenario_blocks(), ids=lambda b: b.name)
def test_scenario_block_is_valid(block: Block) -> None:
    scenario = mixsim.parse_scenario(tomllib.loads(block.text), source=block.name)  # raises on any problem
    assert scenario.source == block.name and scenario.channels


# ----------------------------------------------------------------------------------------------------------------
# Command synopses against --help


@functools.cache
def _help(*words: str) -> str:
    env = {**os.environ, "COLUMNS": "200"}  # PYTHONPATH is kept: the tests run against this checkout's source
    done = subprocess.run(
        [sys.executable, "-m", "mixsim.cli", *words, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, f"mixsim {' '.join(words)} --help failed: {done.stderr}"
    return done.stdout


FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _help_options(command: str) -> list[frozenset[str]]:
    """Each option of ``mixsim COMMAND --help`` as the set of its spellings (``{"--replications", "-r"}``)."""
    options = []
    for line in _help(command).splitlines():
        # argparse indents option lines by two spaces; wrapped help text is indented further.
        if re.match(r"^  -", line):
            spellings = frozenset(FLAG.findall(re.split(r"\s{2,}", line.strip())[0])) - {"-h", "--help"}
            if spellings:
                options.append(spellings)
    return options


def _commands() -> list[str]:
    """The commands ``mixsim --help`` lists."""
    return re.findall(r"^    ([a-z][a-z-]*)\s{2,}\S", _help(), flags=re.M)


def _sections(page: Path) -> dict[str, str]:
    """The text of each command's section (a heading `` `mixsim CMD` `` up to the next heading as high)."""
    sections: dict[str, str] = {}
    current: tuple[str, int] | None = None
    lines: list[str] = []
    in_code = False
    for line in [*page.read_text(encoding="utf-8").splitlines(), "# end"]:
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if heading is not None:
            level = len(heading.group(1))
            if current is not None and level <= current[1]:
                sections[current[0]] = "\n".join(lines)
                current = None
            named = re.fullmatch(r"`mixsim ([a-z-]+)`", heading.group(2))
            if named is not None:
                assert named.group(1) not in sections, f"{page.name}: `mixsim {named.group(1)}` has two sections"
                current, lines = (named.group(1), level), []
                continue
        if current is not None:
            lines.append(line)
    return sections


def _synopses(section: str) -> list[str]:
    """The synopsis lines of a section: in ```text blocks, a line starting ``mixsim `` and its indented
    continuation lines, joined."""
    found: list[str] = []
    for block in _blocks_in(section):
        for line in block.splitlines():
            if line.startswith("mixsim "):
                found.append(line)
            elif line.startswith((" ", "\t")) and found:
                found[-1] += " " + line.strip()
    return found


def _blocks_in(text: str) -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", text, flags=re.S | re.M)


def test_every_command_has_a_section() -> None:
    commands, sections = _commands(), _sections(COMMANDS_PAGE)
    assert len(commands) >= 10, f"could not read the commands from mixsim --help: {commands}"
    assert sorted(sections) == sorted(commands), (
        f"commands without a section in docs/commands.md: {sorted(set(commands) - set(sections))}; "
        f"sections for no command: {sorted(set(sections) - set(commands))}"
    )


@pytest.mark.parametrize("command", sorted(_sections(COMMANDS_PAGE)))
def test_synopsis_matches_help(command: str) -> None:
    section = _sections(COMMANDS_PAGE)[command]
    synopses = _synopses(section)
    assert synopses, f"`mixsim {command}` has no synopsis (a ```text line starting 'mixsim {command}')"
    for synopsis in synopses:
        assert synopsis.split()[1] == command, f"a synopsis in `mixsim {command}`'s section is of another command"
    options = _help_options(command)
    known = set().union(*options) if options else set()
    named = {flag for synopsis in synopses for flag in FLAG.findall(synopsis)}
    assert not named - known, f"mixsim {command}: the synopsis names options --help does not have: {named - known}"
    missing = [sorted(o) for o in options if not o & named]
    assert not missing, f"mixsim {command}: options of --help missing from the synopsis: {missing}"


def test_every_option_is_described() -> None:
    prose = _prose(COMMANDS_PAGE)
    undescribed = [
        f"mixsim {command} {'/'.join(sorted(option))}"
        for command in _commands()
        for option in _help_options(command)
        if not any(re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", prose) for flag in option)
    ]
    assert not undescribed, f"options no prose on docs/commands.md describes: {undescribed}"


# ----------------------------------------------------------------------------------------------------------------
# Length, links and citations


def test_readme_is_short() -> None:
    length = len(README.read_text(encoding="utf-8"))
    assert length <= README_LIMIT, f"README.md has {length:,} characters; keep it under {README_LIMIT:,}"


def _slug(heading: str) -> str:
    """The anchor a heading gets on GitHub: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*$", _prose(page), flags=re.M):
        slug, n = _slug(heading), 1
        while slug in anchors:
            slug, n = f"{_slug(heading)}-{n}", n + 1
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page: Path) -> None:
    broken = []
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", _prose(page)):
        if re.match(r"^[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if file in GENERATED_ELSEWHERE and not file.exists():
            continue
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_nothing_cites_files_outside_the_repository() -> None:
    # The contract lives in docs/; code and docs must not send a reader to notes that are not part of mixsim.
    outside = re.compile(r"(?<![\w.-])shared/[\w.-]+")
    files = [README, *DOCS.rglob("*.md"), *(ROOT / "src").rglob("*.py")]
    cited = [
        f"{file.relative_to(ROOT)}:{number}: {match.group(0)}"
        for file in files
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1)
        for match in outside.finditer(line)
    ]
    assert not cited, f"citations of files outside the repository: {cited}"


# ----------------------------------------------------------------------------------------------------------------
# Docstrings


def test_every_public_name_is_documented() -> None:
    missing = [name for name in mixsim.__all__ if name != "__version__" and not getattr(mixsim, name).__doc__]
    assert not missing, f"public names without a docstring: {missing}"


def test_public_functions_have_examples() -> None:
    functions = ("load_scenario", "simulate", "response_curves", "optimize", "compare", "against_truth", "attribute")
    without = [name for name in functions if "Examples" not in (getattr(mixsim, name).__doc__ or "")]
    assert not without, f"public functions without an Examples section: {without}"


def _modules_with_examples() -> list[str]:
    """Modules whose source holds a docstring example, found by reading the files (nothing is imported)."""
    package = ROOT / "src" / "mixsim"
    names = []
    for path in sorted(package.rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            parts = path.relative_to(package.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_public_examples_are_found() -> None:
    homes = {getattr(mixsim, name).__module__ for name in ("load_scenario", "simulate", "optimize", "attribute")}
    assert homes <= set(_modules_with_examples()), f"modules with examples not found: {homes}"


@pytest.mark.slow
@pytest.mark.parametrize("module", _modules_with_examples())
def test_docstring_examples(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples load scenarios/ by relative path
    mod = importlib.import_module(module)
    outcome = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False, report=True)
    assert outcome.failed == 0, f"{outcome.failed} example(s) of {module} failed (printed above)"


# ----------------------------------------------------------------------------------------------------------------
# A first run: how long the demo takes, and how to open the notebooks


def test_readme_says_how_long_the_demo_takes_and_shows_its_output() -> None:
    text = README.read_text(encoding="utf-8")
    said = re.search(r"`make demo` takes ([^.]*?minutes[^.]*)\.", text)
    assert said, "the README says how long `make demo` takes"
    assert "fresh clone" in said.group(1) and "after that" in said.group(1), said.group(1)
    excerpt = next(b for b in _blocks(README) if b.info[:1] == ("text",))
    first = excerpt.text.splitlines()[0]
    scenario = mixsim.load_scenario(ROOT / "scenarios" / "d2c_ecommerce.toml")
    assert first.startswith(f"{scenario.name}: {scenario.population:,} customers, {scenario.horizon_days} days")
    assert 5 <= len(excerpt.text.splitlines()) <= 20, "a short excerpt"


def test_the_notebooks_extra_brings_jupyter_and_the_docs_say_how_to_start_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert any(req.startswith("jupyterlab") for req in extras["notebooks"])
    for other in ("test", "dask"):  # neither make target brings Jupyter in
        assert not any("jupyter" in req for req in extras[other]), other
    assert "notebooks" not in (ROOT / "Makefile").read_text(encoding="utf-8").split("pip install", 1)[1].split("\n")[0]
    for page in (README, DOCS / "research.md"):
        text = page.read_text(encoding="utf-8")
        assert '.venv/bin/pip install -e ".[notebooks]"' in text, page.name
        assert ".venv/bin/jupyter lab notebooks/" in text, page.name
