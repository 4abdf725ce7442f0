"""The program in matrix form and its two backends: the same answers, one dual convention, clear failures."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from mixsim import SolverError
from mixsim.optimizer.program import INFEASIBLE, OPTIMAL, Program, choose, solve


def small_lp() -> Program:
    """min -x - 2y  s.t.  x + y <= 4,  x - y >= -1,  0 <= x, y <= 3.  Optimum x = 1.5, y = 2.5 (both rows bind)."""
    program = Program(
        cost=np.array([-1.0, -2.0]),
        lower=np.zeros(2),
        upper=np.full(2, 3.0),
        integer=np.zeros(2, dtype=bool),
    )
    program.add_row("sum", np.array([0, 1]), np.array([1.0, 1.0]), -math.inf, 4.0)
    program.add_row("diff", np.array([0, 1]), np.array([1.0, -1.0]), -1.0, math.inf)
    return program


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_both_backends_solve_the_lp_with_minimization_duals(solver: str) -> None:
    sol = solve(small_lp(), solver)
    assert sol.status == OPTIMAL and sol.solver == solver
    np.testing.assert_allclose(sol.x, [1.5, 2.5], atol=1e-7)
    assert sol.objective == pytest.approx(-6.5)
    # d(min)/d(bound), worked by hand: raising the sum's bound by t gives x = 1.5 + t/2, y = 2.5 + t/2, so the
    # minimum falls by 1.5 per unit; raising the lower bound of the difference by t gives x - y = -1 + t, which
    # changes the minimum by +0.5 per unit.
    np.testing.assert_allclose(sol.duals, [-1.5, 0.5], atol=1e-7)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_milp_duals_come_from_the_lp_with_integers_fixed(solver: str) -> None:
    program = small_lp()
    program.integer[:] = True  # integer points with x + y <= 4 and y <= x + 1: the best is x = y = 2
    sol = solve(program, solver)
    assert sol.status == OPTIMAL
    np.testing.assert_allclose(sol.x, [2.0, 2.0], atol=1e-7)
    assert sol.objective == pytest.approx(-6.0)
    assert sol.duals.shape == (2,)  # defined (from the fixed LP), not NaN
    assert not np.isnan(sol.duals).any()


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_infeasible_is_a_status_not_an_exception(solver: str) -> None:
    program = small_lp()
    program.add_row("impossible", np.array([0, 1]), np.array([1.0, 1.0]), 5.0, math.inf)
    assert solve(program, solver).status == INFEASIBLE


def test_an_empty_program_is_solved_without_a_solver() -> None:
    program = Program(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))
    program.add_row("budget", np.zeros(0, dtype=np.int64), np.zeros(0), -math.inf, 10.0)
    sol = solve(program, "highs")
    assert sol.status == OPTIMAL and sol.objective == 0.0
    program.add_row("target", np.zeros(0, dtype=np.int64), np.zeros(0), 1.0, math.inf)
    assert solve(program, "cbc").status == INFEASIBLE


def test_auto_falls_back_to_cbc_without_highspy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose("auto") == "highs"
    monkeypatch.setitem(sys.modules, "highspy", None)  # import highspy now raises ImportError
    assert choose("auto") == "cbc"
    with pytest.raises(SolverError, match="pip install highspy"):
        choose("highs")


def test_unknown_solver() -> None:
    with pytest.raises(SolverError, match="choose one of auto, highs, cbc"):
        choose("gurobi")


def test_highs_prints_nothing() -> None:
    """highspy announces itself on stdout when a process makes its first model; ``--json`` output must stay one
    object. A fresh process, so that the first model is this one."""
    code = (
        "import math, numpy as np\n"
        "from mixsim.optimizer.program import Program, solve\n"
        "p = Program(np.array([-1.0]), np.zeros(1), np.ones(1), np.zeros(1, dtype=bool))\n"
        "p.add_row('r', np.array([0]), np.array([1.0]), -math.inf, 0.5)\n"
        "assert solve(p, 'highs').x[0] == 0.5\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
