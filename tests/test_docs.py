"""The examples in the public API's docstrings run and print what they say (run from the repository root)."""

from __future__ import annotations

import doctest
import importlib

import pytest

import mixsim
from conftest import ROOT

MODULES = ("scenario", "simulation", "curves", "optimize", "whatif", "attribution", "mmm")


def test_every_public_name_is_documented() -> None:
    missing = [name for name in mixsim.__all__ if name != "__version__" and not getattr(mixsim, name).__doc__]
    assert not missing, f"public names without a docstring: {missing}"


def test_public_functions_have_examples() -> None:
    functions = ("load_scenario", "simulate", "response_curves", "optimize", "compare", "against_truth", "attribute")
    without = [name for name in functions if "Examples" not in (getattr(mixsim, name).__doc__ or "")]
    assert not without, f"public functions without an Examples section: {without}"


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples load scenarios/ by relative path
    mod = importlib.import_module(f"mixsim.{module}")
    outcome = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False, report=True)
    assert outcome.attempted > 0, f"mixsim.{module} has no examples"
    assert outcome.failed == 0, f"{outcome.failed} example(s) of mixsim.{module} failed (printed above)"
