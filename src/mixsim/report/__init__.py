"""The HTML report a strategist can mail: the answer first, then the assumptions, results, channels, curves,
the plan with its verification, and the caveats, in one file that references nothing outside itself.

- :mod:`~mixsim.report.facts`: what the report says about a scenario in words (assumptions, caveats, prices);
- :mod:`~mixsim.report.document`: the HTML document, drawn from results only;
- :mod:`~mixsim.report.making`: the runs a report needs (:func:`run_report`) and how many (:func:`report_run_count`).

The report consumes results; it must not change what the simulation or the optimizer compute.
"""

from mixsim.report.document import build_report, summary
from mixsim.report.facts import assumptions, caveats, money, price
from mixsim.report.making import (
    CURVE_REPLICATIONS,
    PLAN_ITERATIONS,
    VERIFY_REPLICATIONS,
    Report,
    report_run_count,
    run_report,
)

__all__ = [
    "CURVE_REPLICATIONS",
    "PLAN_ITERATIONS",
    "VERIFY_REPLICATIONS",
    "Report",
    "assumptions",
    "build_report",
    "caveats",
    "money",
    "price",
    "report_run_count",
    "run_report",
    "summary",
]
