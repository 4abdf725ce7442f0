"""What each optimization objective means, in one table.

The problem checks its objective and target against it; the command line takes its choices and its
``--target`` help from it; the text report and the figures take their headline and units from it. Pure Python:
the command line reads it before any numerical library is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mixsim.scenario import Scenario

__all__ = ["OBJECTIVES", "Objective", "objective", "objective_problems"]


@dataclass(frozen=True)
class Objective:
    """One objective of the allocation program.

    Attributes
    ----------
    name : str
        As given to :class:`~mixsim.optimizer.Problem` and ``mixsim optimize --objective``.
    goal : str
        What the program does, for a headline ("maximize incremental revenue").
    unit : str
        What the objective value and the budget's shadow price count: ``revenue``, ``profit``,
        ``conversions`` or ``spend``.
    maximize : bool
        False for ``min-spend`` (least spend that reaches the target).
    target : str or None
        What the target is, for objectives that need one (None for the others).
    target_goal : str
        The headline with the target in it: a format string with ``{target}``; empty without a target.
    """

    name: str
    goal: str
    unit: str
    maximize: bool = True
    target: str | None = None
    target_goal: str = ""

    @property
    def needs_target(self) -> bool:
        return self.target is not None

    @property
    def shadow_unit(self) -> str:
        """What the budget's shadow price counts per extra dollar: the unit, or what is saved of it for an
        objective that minimizes."""
        return self.unit if self.maximize else f"{self.unit} saved"

    @property
    def in_conversions(self) -> bool:
        """Counted in conversions: needs the revenue per conversion to compare with money."""
        return self.unit in ("conversions", "spend")

    def headline(self, target: float | None = None) -> str:
        """What the plan does, with its target when it has one."""
        if self.target_goal and target is not None:
            return self.target_goal.format(target=target)
        return self.goal


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("revenue", "maximize incremental revenue", "revenue"),
        Objective("profit", "maximize profit (revenue x margin - spend)", "profit"),
        Objective("conversions", "maximize incremental conversions", "conversions"),
        Objective(
            "min-spend",
            "least spend",
            "spend",
            maximize=False,
            target="the conversions to reach",
            target_goal="least spend reaching {target:,.0f} conversions",
        ),
        Objective(
            "cpa",
            "maximize conversions within a cost per conversion",
            "conversions",
            target="the highest cost per conversion",
            target_goal="maximize conversions at a cost per conversion of at most {target:,.2f}",
        ),
        Objective(
            "roas",
            "maximize conversions within a revenue per dollar",
            "conversions",
            target="the lowest revenue per dollar",
            target_goal="maximize conversions at a revenue per dollar of at least {target:,.2f}",
        ),
    )
}
"""Every objective by name, in the order the command line lists them."""


def objective(name: str) -> Objective:
    """The objective called ``name``.

    Raises
    ------
    KeyError
        When there is none (:func:`objective_problems` says so in a problem's terms).
    """
    return OBJECTIVES[name]


def future_value_problems(scenario: Scenario, objective: str) -> list[str]:
    """What is wrong with counting the future value of the customers active at the end (:mod:`mixsim.value`) in
    optimizing ``scenario`` for ``objective``: the scenario must value them, and the objective must be in money."""
    problems = []
    if scenario.economics.future_value == "none":
        problems.append(
            f"with_future_value: {scenario.source}: economics.future_value is none; set it to expected (with "
            "repeat.purchase_rate and a lapse half-life or a discount rate) to value the customers active at the end"
        )
    if objective in OBJECTIVES and OBJECTIVES[objective].in_conversions:
        problems.append(
            f"with_future_value: objective {objective} counts conversions; future value is money (objective revenue "
            "or profit)"
        )
    return problems


def objective_problems(name: str, target: float | None, order_value: float) -> list[str]:
    """What is wrong with optimizing ``name`` with ``target`` where a conversion is worth ``order_value``.

    The problem checks this when it is described; the closed loop checks it before measuring any curve.

    Returns
    -------
    list of str
        One line per problem, each ``parameter: rule (got X)``; empty when there is none.
    """
    if name not in OBJECTIVES:
        return [f"objective: must be one of {', '.join(OBJECTIVES)} (got {name!r})"]
    chosen = OBJECTIVES[name]
    problems = []
    if chosen.needs_target and (target is None or not target > 0):
        problems.append(f"target: objective {name} needs one ({chosen.target}), a number > 0 (got {target})")
    if not chosen.needs_target and target is not None:
        targeted = ", ".join(o.name for o in OBJECTIVES.values() if o.needs_target)
        problems.append(f"target: only with objective {targeted} (got objective {name})")
    if chosen.in_conversions and not order_value > 0:
        problems.append(
            f"order_value: objective {name} is counted in conversions and needs the revenue per conversion "
            f"(got {order_value})"
        )
    return problems
