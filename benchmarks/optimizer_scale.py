"""Optimizer scale benchmark: the allocation LP (HiGHS and CBC) against scipy's SLSQP on the same Hill curves.

Random concave Hill curves (slopes 0.5 to 1), each capped at five times its half-saturation, and a budget of 40%
of the caps' sum. Cases: ``a`` 50 channels, ``b`` 50 channels x 52 weeks (2,600 curves, one per channel-week),
``c`` 200 channels, ``d`` 200 x 52 (10,400 curves); 20 segments per curve by default. Every method's objective
is taken on the true curves at its allocation and compared with the continuous optimum, found independently by
equalizing marginal returns (bisection on the multiplier). Targets: within 0.1% of the optimum, and at least 10x
faster than SLSQP at 50 channels.

    python benchmarks/optimizer_scale.py [--cases a,b,c] [--repeat 5] [--segments 20]
        [--methods highs,cbc,slsqp,slsqp-raw] [--slsqp-max-curves 2600] [--slsqp-limit 60] [--once-above 60]

``slsqp`` is SLSQP on scaled variables (shares of each cap; revenue relative to the even split's), ``slsqp-raw``
the same in dollars; the speed-ups are against each. SLSQP is dense (its subproblem grows with the square of the
variables): it runs on cases with at most ``--slsqp-max-curves`` curves, and is stopped after ``--slsqp-limit``
seconds and reported as stopped, with the objective it had reached. A run that takes longer than
``--once-above`` seconds (or a stopped SLSQP) is not repeated. Case ``d`` is run on request (``--cases d``):
its build alone is about half a second a run. Each repeat runs the methods
one after the other, so their ratios are measured side by side; the table shows medians. BLAS runs on one
thread unless OPENBLAS_NUM_THREADS is set. A benchmark, not a test.
"""

from __future__ import annotations

import os

# One BLAS thread unless told otherwise (set before numpy loads): SLSQP's dense algebra on two threads of a
# shared two-core machine waits on a descheduled peer and its times swing by tens of times.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from mixsim.optimizer import Problem, solve
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve

CASES: dict[str, tuple[int, int]] = {"a": (50, 1), "b": (50, 52), "c": (200, 1), "d": (200, 52)}
"""Case name: (channels, weeks). One curve per channel-week."""

METHODS: tuple[str, ...] = ("highs", "cbc", "slsqp", "slsqp-raw")
"""The LP with HiGHS, with CBC; SLSQP on scaled variables (shares of each cap), on spend in dollars."""

BUDGET_SHARE = 0.4
CAP = 5.0
"""Each curve's max_spend, in half-saturations."""


@dataclass(frozen=True)
class Curves:
    """The benchmark's curves as arrays (for SLSQP and the reference optimum) and as a CurveSet (for the LP)."""

    names: list[str]
    ymax: np.ndarray
    half: np.ndarray
    slope: np.ndarray
    cap: np.ndarray
    budget: float

    def response(self, spend: np.ndarray) -> np.ndarray:
        s = np.maximum(spend, 0.0)
        ratio = (s / self.half) ** self.slope
        return self.ymax * ratio / (1.0 + ratio)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        s = np.maximum(spend, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (s / self.half) ** self.slope
            d = self.ymax * self.slope * ratio / (s * (1.0 + ratio) ** 2)
        at_zero = np.where(self.slope < 1, np.inf, self.ymax / self.half)
        return np.where(s > 0, d, at_zero)

    def curve_set(self) -> CurveSet:
        curves = []
        for name, y, h, k, top in zip(self.names, self.ymax, self.half, self.slope, self.cap, strict=True):
            hill = Hill(float(y), float(h), float(k))
            grid = np.linspace(0.0, float(top), 9)
            ys = hill(grid)
            curves.append(ResponseCurve(name, grid, ys, ys, ys, hill, max_spend=float(top)))
        return CurveSet(curves=tuple(curves), source="optimizer benchmark")


def make_curves(channels: int, weeks: int, seed: int) -> Curves:
    """Random concave Hill curves: per channel a slope in [0.5, 1], a log-uniform half-saturation and a return
    at half-saturation of 1.5 to 6 per dollar; per week a seasonal factor and noise on both scales."""
    rng = np.random.default_rng([seed, channels, weeks])
    slope = rng.uniform(0.5, 1.0, channels)
    half = 10 ** rng.uniform(3.0, 5.0, channels)
    ymax = half * rng.uniform(1.5, 6.0, channels) * 2.0  # y(half) = ymax / 2
    width = max(2, len(str(channels - 1)))
    if weeks == 1:
        names = [f"c{i:0{width}d}" for i in range(channels)]
        y, h, k = ymax, half, slope
    else:
        names = [f"c{i:0{width}d}_w{w:02d}" for i in range(channels) for w in range(weeks)]
        season = 1.0 + 0.3 * np.sin(2 * np.pi * (np.arange(weeks)[None, :] / 52.0 + rng.uniform(0, 1, (channels, 1))))
        h = (half[:, None] / weeks * rng.uniform(0.8, 1.2, (channels, weeks))).ravel()
        y = (ymax[:, None] / weeks * season * rng.uniform(0.8, 1.2, (channels, weeks))).ravel()
        k = np.repeat(slope, weeks)
    cap = CAP * h
    return Curves(names, y, h, k, cap, BUDGET_SHARE * float(cap.sum()))


def reference_optimum(curves: Curves) -> tuple[np.ndarray, float]:
    """The continuous optimum by equal marginal returns: for a multiplier lambda each curve's spend solves
    hill'(s) = lambda (capped at max_spend; bisection on s), and lambda is bisected (in logs) until the spends
    add to the budget. Returns the allocation (within the budget) and lambda."""
    cap = curves.cap

    def spends(lam: float) -> np.ndarray:
        lo, hi = np.zeros_like(cap), cap.copy()
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            above = curves.marginal(mid) > lam
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        return np.where(curves.marginal(cap) >= lam, cap, lo)

    if cap.sum() <= curves.budget:
        return cap.copy(), 0.0
    lam_lo = float(curves.marginal(cap).min()) / 2  # everything at its cap: over budget
    lam_hi = float(curves.marginal(cap * 1e-12).max()) * 2  # nearly nothing anywhere: under budget
    for _ in range(100):
        lam = math.sqrt(lam_lo * lam_hi)
        if spends(lam).sum() > curves.budget:
            lam_lo = lam
        else:
            lam_hi = lam
        if lam_hi / lam_lo - 1 < 1e-13:
            break
    return spends(lam_hi), lam_hi


@dataclass
class Run:
    build: float = math.nan
    solve: float = math.nan
    wall: float = math.nan
    objective: float = math.nan
    note: str = ""


def warm_up(methods: list[str]) -> None:
    """One small solve per LP backend, so the first timed run does not pay for importing it."""
    small = make_curves(5, 1, 0)
    for m in methods:
        if not m.startswith("slsqp"):
            run_lp(small, small.curve_set(), m, 20)


def run_lp(curves: Curves, curve_set: CurveSet, solver: str, segments: int) -> Run:
    start = time.perf_counter()
    plan = solve(Problem(curve_set, budget=curves.budget, segments=segments), solver).check()
    wall = time.perf_counter() - start
    spend = sum(c.spend for c in plan.channels)
    note = "" if spend <= curves.budget * (1 + 1e-9) else f"over budget by {spend / curves.budget - 1:.1e}"
    return Run(plan.build_seconds, plan.solve_seconds, wall, plan.revenue, note)


class _TimeUp(Exception):
    pass


def run_slsqp(curves: Curves, limit: float, scaled: bool = True) -> Run:
    """SLSQP with the analytic gradient, started at an even split of the budget (each share clipped at its cap).

    ``scaled``: the variables are spend as shares of each cap (x in [0, 1]), the objective revenue relative to
    the even split's and the budget row relative to the budget; otherwise spend, revenue and budget in dollars.
    """
    cap, n = curves.cap, len(curves.cap)
    start_spend = np.minimum(curves.budget / n, cap)
    unit = cap if scaled else np.ones(n)
    scale = float(curves.response(start_spend).sum()) if scaled else 1.0
    row_scale = curves.budget if scaled else 1.0
    floor = 1e-12 * cap  # the gradient of a slope < 1 is infinite at zero spend; take it just above

    def f(x: np.ndarray) -> float:
        return -float(curves.response(unit * x).sum()) / scale

    def grad(x: np.ndarray) -> np.ndarray:
        return -unit * curves.marginal(np.maximum(unit * x, floor)) / scale

    budget_row = {
        "type": "ineq",
        "fun": lambda x: (curves.budget - unit @ x) / row_scale,
        "jac": lambda x: -unit / row_scale,
    }
    started = time.perf_counter()

    def stop_at_limit(intermediate_result: object) -> None:
        if time.perf_counter() - started > limit:
            raise StopIteration

    result = minimize(
        f,
        start_spend / unit,
        jac=grad,
        method="SLSQP",
        bounds=list(zip(np.zeros(n), cap / unit, strict=True)),
        constraints=[budget_row],
        callback=stop_at_limit,
        options={"maxiter": 5000, "ftol": 1e-9},
    )
    wall = time.perf_counter() - started
    spend = np.clip(unit * result.x, 0.0, cap)
    note = f"{result.nit} iterations"
    if not result.success:
        stopped = wall > limit
        note += f", stopped at the {limit:g} s limit" if stopped else f", failed: {result.message}"
    if spend.sum() > curves.budget:
        if spend.sum() > curves.budget * (1 + 1e-9):
            note += f", over budget by {spend.sum() / curves.budget - 1:.1e} (scaled back)"
        spend *= curves.budget / spend.sum()
    return Run(math.nan, math.nan, wall, float(curves.response(spend).sum()), note)


@dataclass
class Row:
    case: str
    curves: int
    method: str
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float:
        values = [getattr(r, attr) for r in self.runs]
        return statistics.median(values) if values else math.nan


def fmt(x: float, digits: int = 3) -> str:
    return "-" if not math.isfinite(x) else f"{x:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="a,b,c", help="comma-separated, of: " + ", ".join(CASES))
    parser.add_argument("--repeat", type=int, default=5, help="runs per method; the table shows medians")
    parser.add_argument("--segments", type=int, default=20, help="breakpoint segments per curve")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated, of: " + ", ".join(METHODS))
    parser.add_argument("--slsqp-max-curves", type=int, default=2600, help="skip SLSQP above this many curves")
    parser.add_argument("--slsqp-limit", type=float, default=60.0, help="stop SLSQP after this many seconds")
    parser.add_argument("--once-above", type=float, default=60.0, help="do not repeat a run that took longer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [c for c in cases if c not in CASES] + [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown case or method: {', '.join(unknown)}")
    warm_up(methods)

    table: list[tuple[Row, float]] = []
    for case in cases:
        channels, weeks = CASES[case]
        curves = make_curves(channels, weeks, args.seed)
        n = len(curves.names)
        label = f"{case}: {channels} ch" + (f" x {weeks} wk" if weeks > 1 else "")
        started = time.perf_counter()
        best, lam = reference_optimum(curves)
        optimum = float(curves.response(best).sum())
        print(
            f"{label}: {n:,} curves, budget {curves.budget:,.0f}; reference optimum {optimum:,.2f} "
            f"(multiplier {lam:.6g}, spend {best.sum() / curves.budget:.12f} of budget, "
            f"{time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        curve_set = curves.curve_set()
        rows = {m: Row(label, n, m) for m in methods}
        done: set[str] = set()  # methods not to repeat: too slow, or SLSQP stopped at its limit
        for i in range(args.repeat):
            for m in methods:
                if m in done or (m.startswith("slsqp") and n > args.slsqp_max_curves):
                    continue
                if m.startswith("slsqp"):
                    r = run_slsqp(curves, args.slsqp_limit, scaled=m == "slsqp")
                    if "stopped" in r.note:
                        done.add(m)
                else:
                    r = run_lp(curves, curve_set, m, args.segments)
                if r.wall > args.once_above:
                    done.add(m)
                rows[m].runs.append(r)
                gap = (optimum - r.objective) / optimum * 100
                print(
                    f"  run {i} {m:>9}: build {fmt(r.build)} s, solve {fmt(r.solve)} s, wall {fmt(r.wall)} s, "
                    f"objective {r.objective:,.2f} (gap {gap:.5f}%) {r.note}",
                    flush=True,
                )
        for m in methods:
            if rows[m].runs:
                table.append((rows[m], optimum))
            elif m.startswith("slsqp"):
                print(f"  {m}: skipped ({n:,} curves > --slsqp-max-curves {args.slsqp_max_curves:,})")

    print()
    print(
        f"medians of up to {args.repeat} run(s); segments per curve {args.segments}; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; wall = Problem + solve + Plan; "
        "speed-up = the SLSQP form's wall / this wall (same case; '>' when that SLSQP was stopped at its limit)"
    )
    header = ["case", "curves", "method", "runs", "build s", "solve s", "wall s", "objective", "gap %"]
    header += ["vs slsqp", "vs slsqp-raw", "notes"]
    lines: list[list[str]] = [header]
    slsqp = {(row.case, row.method): row for row, _ in table if row.method.startswith("slsqp")}

    def speed_up(case: str, form: str, wall: float) -> str:
        other = slsqp.get((case, form))
        if other is None:
            return "-"
        stopped = any("stopped" in r.note for r in other.runs)
        return f"{'>' if stopped else ''}{other.median('wall') / wall:.1f}x"

    for row, optimum in table:
        objective = row.median("objective")
        wall = row.median("wall")
        if row.method.startswith("slsqp"):
            ratios, notes = ("-", "-"), [row.runs[-1].note]
        else:
            ratios = (speed_up(row.case, "slsqp", wall), speed_up(row.case, "slsqp-raw", wall))
            notes = sorted({r.note for r in row.runs if r.note})
        lines.append(
            [
                row.case,
                f"{row.curves:,}",
                row.method,
                str(len(row.runs)),
                fmt(row.median("build")),
                fmt(row.median("solve")),
                fmt(wall),
                f"{objective:,.1f}",
                f"{(optimum - objective) / optimum * 100:.5f}",
                *ratios,
                "; ".join(notes),
            ]
        )
    widths = [max(len(line[j]) for line in lines) for j in range(len(header) - 1)]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1])


if __name__ == "__main__":
    main()
