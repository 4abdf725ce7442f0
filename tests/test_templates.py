"""Starter scenarios: one template per shipped scenario, written whole, valid, and never over a file by accident."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mixsim.errors import InputError
from mixsim.scenario import load_scenario
from mixsim.scenario.templates import list_templates, template_text, write_template

ROOT = Path(__file__).resolve().parents[1]
RunCli = Callable[..., tuple[int, str, str]]
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))


def test_there_is_a_template_for_every_shipped_scenario() -> None:
    assert SHIPPED and sorted(list_templates()) == SHIPPED
    assert all(about for about in list_templates().values())


@pytest.mark.parametrize("name", SHIPPED)
def test_new_writes_the_template_and_it_validates(run_cli: RunCli, tmp_path: Path, name: str) -> None:
    target = tmp_path / "mine.toml"
    code, out, err = run_cli("new", "--template", name, "--out", target)
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    assert text == (ROOT / "scenarios" / f"{name}.toml").read_text(encoding="utf-8") == template_text(name)
    assert text.lstrip().startswith("#")  # commented: it says what it models and where its figures come from
    assert load_scenario(target).channels
    assert f"mixsim validate {target}" in out


def test_new_prints_without_out(run_cli: RunCli) -> None:
    code, out, _ = run_cli("new", "--template", "b2b_saas")
    assert code == 0 and out == template_text("b2b_saas")


def test_new_keeps_an_existing_file_unless_forced(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "mine.toml"
    target.write_text("keep me", encoding="utf-8")
    code, _, err = run_cli("new", "--template", "genz_launch", "--out", target)
    assert code == 2 and "exists" in err and "--force" in err
    assert target.read_text(encoding="utf-8") == "keep me"
    code, _, _ = run_cli("new", "--template", "genz_launch", "--out", target, "--force")
    assert code == 0 and target.read_text(encoding="utf-8") == template_text("genz_launch")


def test_unknown_template_lists_the_known_ones(run_cli: RunCli) -> None:
    code, _, err = run_cli("new", "--template", "d2c")
    assert code == 2 and "no such template" in err and "d2c_ecommerce" in err


def test_template_errors_are_input_errors_in_library_terms(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"template 'd2c': no such template; choose one of .*d2c_ecommerce"):
        template_text("d2c")
    target = tmp_path / "mine.toml"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="exists") as info:
        write_template("genz_launch", target)
    assert "--" not in str(info.value)  # a library message names no command-line flag
    assert write_template("genz_launch", target, overwrite=True) == target
    assert target.read_text(encoding="utf-8") == template_text("genz_launch")


def test_list_templates_names_each_with_its_description(run_cli: RunCli) -> None:
    code, out, _ = run_cli("list-templates")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == SHIPPED
    for line, about in zip(lines, list_templates().values(), strict=True):
        assert line.endswith(about)


def test_the_shipped_scenarios_are_package_data(tmp_path: Path) -> None:
    """`scenarios/` is the package's own folder: a wheel carries the templates to users without the repository."""
    assert (ROOT / "scenarios").resolve() == (ROOT / "src" / "mixsim" / "scenarios").resolve()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'mixsim = ["scenarios/*.toml"]' in pyproject
