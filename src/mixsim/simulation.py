"""Replicated simulation: seeds, parallel workers and counterfactual runs for ground-truth incrementality."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mixsim._version import __version__
from mixsim.engine import RunRecord, World, batches, run_batch, seed_key
from mixsim.errors import InputError
from mixsim.executors import open_executor, run_all
from mixsim.memory import MAX_REPLICATIONS, batch_size, tune_malloc
from mixsim.results import Incrementality, SimulationResult
from mixsim.scenario import Channel, Scenario, require_scenario

MARGINAL_SHARE = 0.05
"""Marginal ROAS is measured on the last 5% of a channel's spend."""

_EXECUTOR_BATCHES = 4

ProgressCallback = Callable[[int, int], None]
"""Called with (runs done, runs in all) as runs finish."""


@dataclass(frozen=True)
class Task:
    """One engine run: replication ``replication``'s seed, with these channels' planned spend replaced."""

    replication: int
    spend: tuple[tuple[str, float], ...] = ()
    journeys: float = 0.0


def root_seed(scenario: Scenario, seed: int | None) -> int:
    """The seed to run with: ``seed``, else the scenario's, else 0.

    Raises
    ------
    InputError
        If the seed is negative.
    """
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else 0
    if seed < 0:
        raise InputError(f"seed must be >= 0 (got {seed})")
    return seed


def run_count(scenario: Scenario, replications: int, incrementality: bool = False) -> int:
    """How many engine runs :func:`simulate` makes (for sizing a progress bar)."""
    measured = sum(c.spend > 0 for c in scenario.channels) if incrementality else 0
    return replications * (1 + 2 * measured)


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int = 10,
    workers: int = 1,
    incrementality: bool = False,
    journeys: float = 0.0,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Simulate ``scenario`` ``replications`` times.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`mixsim.load_scenario`).
    seed : int, optional
        Root seed; default the scenario's ``seed``, else 0. Replication ``r`` uses
        ``numpy.random.SeedSequence(seed).spawn(replications)[r]``, so results do not depend on ``workers``.
    replications : int, default=10
        Independent runs to summarise.
    workers : int, default=1
        Worker processes; 1 runs everything in this process.
    incrementality : bool, default=False
        Also re-run every replication with each channel off, and at 95% of its spend, with the same random
        numbers: each channel's true incremental conversions and revenue, its ROAS and its marginal ROAS.
    journeys : float, default=0.0
        Share of customers whose touches are recorded (0 to 1), for :meth:`SimulationResult.journeys`: path and
        touch tables, attribution. Tracking draws from its own random stream, so the run is otherwise the same;
        it takes about 16 bytes per touch (some 80 MB for 200,000 customers over a quarter, all tracked).
    executor : concurrent.futures.Executor, optional
        Run on this executor instead (e.g. a Dask client's ``get_executor()``); ``workers`` is then ignored.
    progress : callable, optional
        ``progress(done, total)`` after each run.

    Returns
    -------
    SimulationResult

    Raises
    ------
    InputError
        If ``replications`` or ``workers`` is below 1, ``seed`` is negative or ``journeys`` is not in [0, 1].

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> result = mixsim.simulate(scenario, seed=1, replications=2)
    >>> result.to_frame("kpis")["kpi"].tolist()[:7]
    ['conversions', 'revenue', 'spend', 'profit', 'roi', 'roas', 'cac']
    >>> result.to_frame("kpis")["kpi"].tolist()[7:]  # its customers buy again, and are valued beyond the horizon
    ['purchases', 'repeat_purchases', 'revenue_new', 'revenue_repeat', 'cost_per_purchase', 'future_value']
    >>> result.to_json() == mixsim.simulate(scenario, seed=1, replications=2).to_json()  # same seed, same result
    True
    """
    require_scenario(scenario)
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError(f"replications must be from 1 to {MAX_REPLICATIONS:,} (got {replications:,})")
    if workers < 1:
        raise InputError(f"workers must be >= 1 (got {workers})")
    seed = root_seed(scenario, seed)
    seeds = np.random.SeedSequence(seed).spawn(replications)

    if not 0.0 <= journeys <= 1.0:
        raise InputError(f"journeys must be a share in [0, 1] (got {journeys})")
    tasks = simulation_tasks(scenario, replications, incrementality, journeys)
    records = run_tasks(scenario, seeds, tasks, workers, executor, progress)
    return simulation_result(scenario, seed, replications, incrementality, records)


def simulation_tasks(scenario: Scenario, replications: int, incrementality: bool, journeys: float = 0.0) -> list[Task]:
    """The runs :func:`simulate` makes: each replication, then (with ``incrementality``) each replication with each
    channel that spends off and at 95% of its spend.

    Parameters
    ----------
    scenario : Scenario
    replications : int
    incrementality : bool
    journeys : float, default=0.0

    Returns
    -------
    list of Task
    """
    tasks = [Task(r, journeys=journeys) for r in range(replications)]
    if incrementality:
        for r in range(replications):
            for c in scenario.channels:
                if c.spend > 0:
                    tasks.append(Task(r, ((c.name, 0.0),)))
                    tasks.append(Task(r, ((c.name, c.spend * (1.0 - MARGINAL_SHARE)),)))
    return tasks


def simulation_result(
    scenario: Scenario, seed: int, replications: int, incrementality: bool, records: Sequence[RunRecord]
) -> SimulationResult:
    """:func:`simulate`'s result from the records of :func:`simulation_tasks`' runs, in their order.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        The root seed the runs used.
    replications : int
    incrementality : bool
    records : sequence of RunRecord

    Returns
    -------
    SimulationResult
    """
    base = tuple(records[:replications])
    truth = None
    if incrementality:
        measured = [c for c in scenario.channels if c.spend > 0]
        truth = _incrementality(scenario, base, list(records[replications:]), measured)
    return SimulationResult(scenario=scenario, seed=seed, runs=base, incrementality=truth, version=__version__)


def run_tasks(
    scenario: Scenario,
    seeds: Sequence[np.random.SeedSequence],
    tasks: list[Task],
    workers: int,
    executor: cf.Executor | None,
    progress: ProgressCallback | None,
) -> list[RunRecord]:
    """Run every task, in batches and in parallel when asked; results come back in task order.

    Task ``t`` runs with ``seeds[t.replication]``: tasks of one replication share their random numbers.
    """
    worlds = [
        World(scenario.with_spend(dict(t.spend)) if t.spend else scenario, seeds[t.replication], t.journeys)
        for t in tasks
    ]
    return run_worlds(worlds, workers, executor, progress)


def run_worlds(
    worlds: Sequence[World],
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> list[RunRecord]:
    """Run every world, in batches and in parallel when asked; records come back in world order.

    Worlds that can share a batch (:func:`mixsim.engine.batch_key`) are grouped, those of one seed next to each
    other, and cut into batches of at most :func:`mixsim.memory.batch_size` worlds, and into at least as many
    batches as there are workers (four, on an executor given); a worker (a local process or a Dask worker) takes
    a batch at a time. Each world's record is exactly the one it gives run alone (see
    :func:`mixsim.engine.run_batch`), whatever the batches, the workers or the executor. ``progress(done,
    total)`` counts runs.
    """
    total = len(worlds)
    if total == 0:
        return []
    parallel = executor is not None or workers > 1
    # An executor's workers are not known here: at least four batches keep a few of them busy.
    share = max(workers, _EXECUTOR_BATCHES if executor is not None else 1)
    size = batch_size(worlds[0].scenario, share)
    if parallel:
        size = max(1, min(size, -(-total // share)))  # every worker gets a batch
    order = _by_seed(worlds)
    chunks = [[order[i] for i in chunk] for chunk in batches([worlds[i] for i in order], size)]
    jobs = [([worlds[i] for i in chunk],) for chunk in chunks]
    done = shown = 0

    def counted(index: int, _: object) -> None:
        nonlocal done, shown
        done += len(chunks[index])
        if progress is not None and done > shown:
            shown = done
            progress(done, total)

    if executor is None and workers > 1 and len(jobs) > 1:
        with open_executor(min(workers, len(jobs))) as pool:
            results = run_all(_run_batch_job, jobs, pool, on_result=counted)
    elif executor is None:
        # Here, a batch also reports its days: its runs count as done in proportion, so a progress bar moves.
        results = []
        for index, (batch,) in enumerate(jobs):
            base, horizon = done, batch[0].scenario.horizon_days

            def ticked(day: int, base: int = base, runs: int = len(batch), horizon: int = horizon) -> None:
                nonlocal shown
                now = base + runs * (day + 1) // horizon
                if progress is not None and shown < now < base + runs:
                    shown = now
                    progress(now, total)

            results.append(_run_batch_job(batch, ticked))
            counted(index, None)
    else:
        results = run_all(_run_batch_job, jobs, executor, on_result=counted)
    records: list[RunRecord] = [None] * total  # type: ignore[list-item]
    for chunk, batch in zip(chunks, results, strict=True):
        for i, record in zip(chunk, batch, strict=True):
            records[i] = record
    return records


def _by_seed(worlds: Sequence[World]) -> list[int]:
    """World indices with those of one seed next to each other (in the order seeds first appear), so that a batch
    cut from them holds whole seed groups."""
    first: dict[tuple[object, ...], int] = {}
    for i, world in enumerate(worlds):
        first.setdefault(seed_key(world.seed), i)
    return sorted(range(len(worlds)), key=lambda i: (first[seed_key(worlds[i].seed)], i))


def _run_batch_job(worlds: list[World], on_day: Callable[[int], None] | None = None) -> list[RunRecord]:
    tune_malloc()
    return run_batch(worlds, on_day)


def _incrementality(
    scenario: Scenario, base: tuple[RunRecord, ...], counterfactual: list[RunRecord], measured: list[Channel]
) -> Incrementality:
    """Per replication and channel: the difference the channel makes, per dollar it actually spent."""
    names = scenario.channel_names
    value, repeat_value = scenario.economics.order_value, scenario.repeat_order_value
    shape = (len(base), len(names))
    conversions, repeat = np.zeros(shape), np.zeros(shape)
    daily = np.zeros((len(base), scenario.horizon_days, len(names)))
    daily_repeat = np.zeros_like(daily)
    roas, marginal = np.full(shape, np.nan), np.full(shape, np.nan)
    it = iter(counterfactual)
    for r, full in enumerate(base):
        for c in measured:
            k = names.index(c.name)
            off, reduced = next(it), next(it)
            conversions[r, k] = full.conversions - off.conversions
            repeat[r, k] = full.repeat_purchases - off.repeat_purchases
            gap = full.daily_sales - off.daily_sales  # customers won and repeat purchases so far, on minus off
            daily[r, :, k] = np.diff(gap[:, 0], prepend=0)
            daily_repeat[r, :, k] = np.diff(gap[:, 1], prepend=0)
            spent = full.spend[k]
            last_spend = spent - reduced.spend[k]  # what the last 5% of the plan actually bought
            if spent > 0:
                roas[r, k] = (conversions[r, k] * value + repeat[r, k] * repeat_value) / spent
            if last_spend > 0:
                last = (full.conversions - reduced.conversions) * value
                last += (full.repeat_purchases - reduced.repeat_purchases) * repeat_value
                marginal[r, k] = last / last_spend
    return Incrementality(
        conversions=conversions,
        revenue=conversions * value + repeat * repeat_value,
        roas=roas,
        marginal_roas=marginal,
        daily_conversions=daily,
        purchases=conversions + repeat,
        daily_purchases=daily + daily_repeat,
    )
