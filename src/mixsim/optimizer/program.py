"""A linear (mixed-integer) program in matrix form, and the two solvers that take it.

The optimizer describes its program once, as arrays; each backend turns the arrays into its own model. HiGHS
takes them directly through ``highspy`` (building a large model from arrays is much faster than through
PuLP's expression objects); CBC, bundled with PuLP, gets a PuLP model built from the same arrays. Both are
minimizations here, so a row's dual is the change of the minimum per unit of the row's bound, whatever
convention the solver itself uses for maximizations.

Solvers judge feasibility and optimality with absolute tolerances (1e-7 on a bound or a reduced cost, 1e-6 on an
integer), so the same plan in dollars and in thousands of dollars would be solved to different precision. A
program therefore says what its money is measured in (:attr:`Program.unit`): :func:`solve` hands the solvers the
program with its money in that unit (amounts near 1, and returns per unit of it rather than per dollar, so that a
long segment of small slope still weighs what it earns) and scales the solution back. The unit is a power of two,
so the scaling itself is exact.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from mixsim.errors import SolverError

__all__ = [
    "INFEASIBLE",
    "IPM_COLUMNS",
    "OPTIMAL",
    "SOLVERS",
    "Program",
    "Row",
    "Solution",
    "available",
    "choose",
    "money_unit",
    "solve",
]

SOLVERS: tuple[str, ...] = ("auto", "highs", "cbc")
_PARALLEL_ROWS_AND_COLUMNS = 8192  # HiGHS presolve rule 13, as a bit of presolve_rule_off
IPM_COLUMNS = 10_000
"""Above this many columns an LP goes to HiGHS's interior-point method (see benchmarks/OPTIMIZER_RESULTS.md)."""
OPTIMAL, INFEASIBLE = "optimal", "infeasible"


@dataclass
class Row:
    """``lower <= sum(coefs * x[index]) <= upper``, named for reports."""

    name: str
    index: np.ndarray
    coefs: np.ndarray
    lower: float = -math.inf
    upper: float = math.inf


@dataclass
class Program:
    """Minimize ``cost @ x`` subject to ``lower <= x <= upper``, the rows, and integrality where ``integer``.

    Attributes
    ----------
    cost, lower, upper : ndarray
        One entry per column (bounds may be infinite).
    integer : ndarray of bool
        Which columns must take whole values (binaries, with bounds 0 and 1).
    rows : list of Row
        The constraints.
    unit : float, default=1.0
        The amount of money the solvers see as 1 (see :func:`money_unit`). Continuous columns are money; a row
        that holds one is in money too (its bound, and its binaries' coefficients: a fixed cost, a segment's
        length); a row of binaries alone counts them (weeks on air) and is not scaled. The objective keeps its
        own units: a continuous column's cost becomes what a unit of its money earns.
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    rows: list[Row] = field(default_factory=list)
    unit: float = 1.0

    @property
    def n(self) -> int:
        return len(self.cost)

    def add_row(self, name: str, index: np.ndarray, coefs: np.ndarray, lower: float, upper: float) -> int:
        self.rows.append(Row(name, np.asarray(index, dtype=np.int64), np.asarray(coefs, dtype=float), lower, upper))
        return len(self.rows) - 1

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row starts, column indices and values of the constraint matrix."""
        lengths = np.array([len(r.index) for r in self.rows], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(lengths)])
        if self.rows:
            index = np.concatenate([r.index for r in self.rows])
            value = np.concatenate([r.coefs for r in self.rows])
        else:
            index, value = np.zeros(0, dtype=np.int64), np.zeros(0)
        return start, index, value

    def fixed_integers(self, x: np.ndarray) -> Program:
        """The LP left when every integer variable is fixed at its value in ``x`` (for duals of a MILP)."""
        lower, upper = self.lower.copy(), self.upper.copy()
        k = self.integer
        lower[k] = upper[k] = np.round(x[k])
        return Program(self.cost, lower, upper, np.zeros_like(k), self.rows, self.unit)

    def in_unit(self) -> tuple[Program, np.ndarray]:
        """The same program with money counted in :attr:`unit` (and a unit of 1), and which rows hold money.

        Its solution has the same objective value, its money columns are the original ones divided by the unit,
        and a money row's dual is the unit times the original one (its bound is counted in units)."""
        u = self.unit
        money = ~self.integer
        cost = np.where(money, self.cost * u, self.cost)
        lower = np.where(money, self.lower / u, self.lower)
        upper = np.where(money, self.upper / u, self.upper)
        rows, in_money = [], np.zeros(len(self.rows), dtype=bool)
        for i, r in enumerate(self.rows):
            if not money[r.index].any():
                rows.append(r)
                continue
            in_money[i] = True
            coefs = np.where(money[r.index], r.coefs, r.coefs / u)
            rows.append(Row(r.name, r.index, coefs, r.lower / u, r.upper / u))
        return Program(cost, lower, upper, self.integer, rows), in_money


@dataclass
class Solution:
    """What a backend returns: status, values, and duals of the rows (NaN when the solver gives none)."""

    status: str
    x: np.ndarray
    objective: float
    duals: np.ndarray
    solver: str
    seconds: float


def available(solver: str) -> bool:
    """Whether the backend ``solver`` can run here (CBC comes with PuLP; HiGHS needs highspy)."""
    if solver == "cbc":
        return True
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def choose(solver: str) -> str:
    """The backend ``solver`` names: ``auto`` is HiGHS when highspy is installed, CBC otherwise."""
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    if solver == "auto":
        return "highs" if available("highs") else "cbc"
    if not available(solver):
        raise SolverError("the HiGHS solver needs highspy: pip install highspy (or choose the solver cbc)")
    return solver


def money_unit(amounts: np.ndarray) -> float:
    """The unit in which to hand a program whose money comes in ``amounts`` to the solvers: the power of two at the
    geometric middle of the positive finite ones (1 when there are none), so the smallest and the largest stand
    as far from 1 on either side, where absolute tolerances weigh them alike (dividing by a power of two is exact).
    """
    values = np.asarray(amounts, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return 1.0
    middle = 0.5 * (math.log2(float(values.min())) + math.log2(float(values.max())))
    return math.ldexp(1.0, round(middle))


def solve(program: Program, solver: str = "auto", duals: bool = True) -> Solution:
    """Solve ``program`` with the named backend, in its money :attr:`~Program.unit`.

    With ``duals`` (the solution is to be read, not only its status), a MILP's binaries are made exact: the
    solver's integers are rounded and the LP left with them fixed is solved again (a binary at 1e-7 may otherwise
    carry spend without its fixed cost), which also gives the duals of a MILP. Where that LP fails (a rounding that
    breaks a row by a hair), the solver's own values stand, without duals.
    """
    name = choose(solver)
    if program.n == 0:
        # Nothing to decide (every channel capped at 0): the empty plan, which solvers treat as an error.
        feasible = all(r.lower <= 0 <= r.upper for r in program.rows)
        status = OPTIMAL if feasible else INFEASIBLE
        return Solution(status, np.zeros(0), 0.0, np.zeros(len(program.rows)), name, 0.0)
    backend = _highs if name == "highs" else _cbc
    start = time.perf_counter()
    scaled, in_money = program.in_unit()
    sol = backend(scaled)
    if duals and sol.status == OPTIMAL and program.integer.any():
        fixed = backend(scaled.fixed_integers(sol.x))
        if fixed.status == OPTIMAL:
            sol.x, sol.objective, sol.duals = fixed.x, fixed.objective, fixed.duals
        else:
            sol.duals = np.full(len(program.rows), np.nan)
    u = program.unit
    sol.x = np.where(program.integer, sol.x, sol.x * u)
    if len(sol.duals):
        sol.duals = np.where(in_money, sol.duals / u, sol.duals)
    sol.seconds = time.perf_counter() - start
    return sol


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence native writes to stdout (highspy prints a banner when its first model is made)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs(program: Program) -> Solution:
    import highspy

    inf = highspy.kHighsInf
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = program.n
    lp.num_row_ = len(program.rows)
    lp.col_cost_ = program.cost
    lp.col_lower_ = np.where(np.isfinite(program.lower), program.lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(program.upper), program.upper, inf)
    lp.row_lower_ = np.array([r.lower if math.isfinite(r.lower) else -inf for r in program.rows])
    lp.row_upper_ = np.array([r.upper if math.isfinite(r.upper) else inf for r in program.rows])
    start, index, value = program.csr()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    # Every segment column has a single 1 in the budget row, so presolve's parallel rows-and-columns rule sees
    # all of them as parallel and spends almost all of HiGHS's time on it (measured: 22 s against 0.15 s at
    # 49,000 columns; benchmarks/OPTIMIZER_RESULTS.md). The rest of presolve stays on.
    h.setOptionValue("presolve_rule_off", _PARALLEL_ROWS_AND_COLUMNS)
    if program.integer.any():
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(k)] for k in program.integer]
        h.setOptionValue("mip_rel_gap", 1e-6)
    elif program.n > IPM_COLUMNS:
        # Measured on the allocation LPs: interior point beats dual simplex by far at this size.
        h.setOptionValue("solver", "ipm")
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        sol = h.getSolution()
        duals = np.array(sol.row_dual) if sol.dual_valid else np.full(len(program.rows), np.nan)
        x = np.array(sol.col_value)
        return Solution(OPTIMAL, x, float(program.cost @ x), duals, "highs", 0.0)
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return Solution(INFEASIBLE, np.zeros(program.n), math.nan, np.zeros(0), "highs", 0.0)
    raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(status)!r}; try the solver cbc")


def _cbc(program: Program) -> Solution:
    import pulp

    model = pulp.LpProblem("allocation", pulp.LpMinimize)
    cols = [
        model.add_variable(
            f"x{j}",
            lowBound=float(program.lower[j]) if math.isfinite(program.lower[j]) else None,
            upBound=float(program.upper[j]) if math.isfinite(program.upper[j]) else None,
            cat=pulp.LpInteger if program.integer[j] else pulp.LpContinuous,
        )
        for j in range(program.n)
    ]
    model += pulp.LpAffineExpression([(cols[j], float(c)) for j, c in enumerate(program.cost) if c != 0])
    names = []
    for i, row in enumerate(program.rows):
        expr = pulp.LpAffineExpression([(cols[j], float(c)) for j, c in zip(row.index, row.coefs, strict=True)])
        if row.lower == row.upper:
            pairs = [(f"r{i}", expr == row.lower)]
        else:
            pairs = []
            if math.isfinite(row.lower):
                pairs.append((f"r{i}l", expr >= row.lower))
            if math.isfinite(row.upper):
                pairs.append((f"r{i}u", expr <= row.upper))
        for label, constraint in pairs:
            model += constraint, label
        names.append([label for label, _ in pairs])
    with warnings.catch_warnings():
        # PuLP 3 warns that its bundled CBC goes away in PuLP 4; the dependency is pinned below 4 for it.
        warnings.simplefilter("ignore", DeprecationWarning)
        model.solve(pulp.PULP_CBC_CMD(msg=False))
    status = pulp.LpStatus[model.status]
    if status == "Optimal":
        x = np.array([v.varValue if v.varValue is not None else 0.0 for v in cols])
        duals = np.full(len(program.rows), np.nan)
        if not program.integer.any():
            for i, labels in enumerate(names):
                pis = [model.get_constraint_by_name(label).pi for label in labels]
                duals[i] = sum(p for p in pis if p is not None) if any(p is not None for p in pis) else np.nan
        return Solution(OPTIMAL, x, float(program.cost @ x), duals, "cbc", 0.0)
    if status == "Infeasible":
        return Solution(INFEASIBLE, np.zeros(program.n), math.nan, np.zeros(0), "cbc", 0.0)
    raise SolverError(f"CBC stopped with status {status!r}; try the solver highs")
