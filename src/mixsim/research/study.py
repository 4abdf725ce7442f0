"""Studies from a scenario in one call: an MMM dataset with its truth, and attribution models against the truth.

Each study checks its request before any run, simulates what it needs (with the counterfactual runs that give the
truth) and returns the result object; ``*_runs`` says how many engine runs it will make, for a progress bar or a
memory check. The command line's ``export-mmm`` and ``attribution`` are these calls. This module sits above the
simulation (it runs it); the research modules below it only read results, so that :mod:`mixsim.results` can use
them without an import circle.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
from collections.abc import Sequence

from mixsim.research.attribution import MODELS, AttributionCheck, against_truth, check_models
from mixsim.research.mmm import DEFAULT_START, MMMDataset, mmm_dataset, mmm_scenario
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback, root_seed, run_count, simulate

__all__ = ["attribution_study", "attribution_study_runs", "mmm_study", "mmm_study_runs"]


def mmm_study_runs(scenario: Scenario, replications: int = 1) -> int:
    """Engine runs :func:`mmm_study` makes: the replications and their counterfactuals (the stretched scenario has
    the same channels with spend as ``scenario``)."""
    return run_count(scenario, replications, incrementality=True)


def mmm_study(
    scenario: Scenario,
    weeks: int,
    *,
    variation: float = 0.5,
    dark: float = 0.0,
    seed: int | None = None,
    replications: int = 1,
    freq: str = "W",
    start: str | dt.date = DEFAULT_START,
    overrides: Sequence[str] = (),
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> MMMDataset:
    """Stretch ``scenario`` to ``weeks`` of varied weekly spend, simulate it with the truth, and return the
    dataset a marketing-mix model would be fitted on, its true decomposition and a summary.

    Parameters
    ----------
    scenario : Scenario
    weeks, variation, dark, seed
        As for :func:`~mixsim.research.mmm.mmm_scenario` (``seed`` defaults to the scenario's, else 0; the same
        root seed draws the spend and runs the simulation).
    replications : int, default=1
        Simulations of the same stretch: the first is the dataset; with two or more, its ROAS and marginal ROAS
        carry the interval holding 90% of the replications (one replication gives no interval).
    freq, start, overrides
        As for :func:`~mixsim.research.mmm.mmm_dataset`.
    workers, executor, progress
        As for :func:`~mixsim.simulate`.

    Returns
    -------
    MMMDataset

    Raises
    ------
    InputError
        Before any run, naming every setting out of range.
    """
    seed = root_seed(require_scenario(scenario), seed)
    long = mmm_scenario(scenario, weeks, variation=variation, dark=dark, seed=seed)
    result = simulate(
        long,
        seed=seed,
        replications=replications,
        workers=workers,
        executor=executor,
        incrementality=True,
        progress=progress,
    )
    return mmm_dataset(
        result, scenario, weeks=weeks, variation=variation, dark=dark, freq=freq, start=start, overrides=overrides
    )


def attribution_study_runs(scenario: Scenario, replications: int) -> int:
    """Engine runs :func:`attribution_study` makes: the replications and their counterfactuals."""
    return run_count(scenario, replications, incrementality=True)


def attribution_study(
    scenario: Scenario,
    models: Sequence[str] | str = MODELS,
    *,
    sample: float = 1.0,
    half_life: float = 7.0,
    first: float = 0.4,
    last: float = 0.4,
    seed: int | None = None,
    replications: int = 5,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> AttributionCheck:
    """Simulate ``scenario`` following a ``sample`` of customers, with each channel's true incremental effect, and
    set each attribution model's credit beside that truth.

    Parameters
    ----------
    scenario : Scenario
    models, half_life, first, last
        As for :func:`~mixsim.research.attribution.against_truth`; checked before any run.
    sample : float, default=1.0
        Share of customers whose journeys are attributed (scaled up to the population).
    seed, replications, workers, executor, progress
        As for :func:`~mixsim.simulate`.

    Returns
    -------
    AttributionCheck

    Raises
    ------
    InputError
        Before any run: an unknown model, a parameter out of range, or more channels than a model takes.
    """
    check_models(models, channels=len(require_scenario(scenario).channels), half_life=half_life, first=first, last=last)
    result = simulate(
        scenario,
        seed=seed,
        replications=replications,
        workers=workers,
        executor=executor,
        incrementality=True,
        journeys=sample,
        progress=progress,
    )
    return against_truth(result, models, half_life=half_life, first=first, last=last)
