"""Several data years of one area: running each, checking a claim, the change between two.

The composition the ``claim`` and ``diff`` commands (and a report with ``[[vintage]]``
sections) read top to bottom: every data year is run once, keeping its evidence
(:func:`coverage_gap.pipeline.run` with ``keep_evidence=True``); the claim check judges
those evidences (:func:`coverage_gap.claims.check_claim`) and the change joins two runs'
households (:func:`coverage_gap.changes.compare_vintages`). Nothing here reads a file
that a run has not read already.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from . import pipeline
from .changes import VintageChange, compare_vintages
from .claims import Claim, ClaimCheck, ClaimGrid, Vintage, check_claim
from .classify import classify
from .config import RunConfig
from .errors import ConfigError
from .pipeline import Results

log = logging.getLogger(__name__)

__all__ = [
    "as_vintage",
    "change_between",
    "check_runs",
    "previous_run",
    "report_extras",
    "run_vintages",
]


def run_vintages(
    config: RunConfig, *, progress: bool = False, first: Results | None = None
) -> tuple[Results, ...]:
    """Run every data year of ``config`` (its own first, then each ``[[vintage]]``).

    Each run keeps its evidence. ``first`` is a run of ``config`` itself made already
    (with ``keep_evidence=True``), reused instead of running it again.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.config import load_config
    >>> from coverage_gap.datasets import write_demo_inputs
    >>> runs = run_vintages(load_config(write_demo_inputs(tempfile.mkdtemp(), scale=0.01)))
    >>> [r.provenance.data_year for r in runs]
    [2026, 2025]
    """
    configs = config.vintage_configs()
    runs = []
    for i, cfg in enumerate(configs):
        if i == 0 and first is not None:
            if first.evidence is None:
                raise ConfigError("the run given as first must keep its evidence")
            runs.append(first)
            continue
        start = time.perf_counter()
        try:
            runs.append(pipeline.run(cfg, progress=progress, keep_evidence=True))
        except ConfigError as exc:
            if i == 0:
                raise
            raise ConfigError(f"[[vintage]] data_year = {cfg.data_year!r}: {exc}") from None
        log.info("data year %s: %.2f s", cfg.data_year, time.perf_counter() - start)
    return tuple(runs)


def as_vintage(results: Results) -> Vintage:
    """Return the evidence of a run, for :func:`coverage_gap.claims.check_claim`."""
    if results.evidence is None:
        raise ConfigError("the run did not keep its evidence: run(config, keep_evidence=True)")
    return Vintage(results.evidence, results.boundaries, results.provenance)


def check_runs(runs: Sequence[Results], claim: Claim, grid: ClaimGrid | None = None) -> ClaimCheck:
    """Check a claim on runs that kept their evidence (one per data year)."""
    return check_claim([as_vintage(r) for r in runs], claim, grid=grid)


def change_between(old: Results, new: Results) -> VintageChange:
    """Return the change from an older run to a newer one, address by address.

    When the two standards differ, the old evidence is judged under the new standard as
    well, so that a change of definition is told from a change of data (the old run
    must then have kept its evidence).
    """
    old_codes = sorted(old.boundaries["municipality_code"].astype(str))
    new_codes = sorted(new.boundaries["municipality_code"].astype(str))
    if old_codes != new_codes:
        raise ConfigError(
            f"the two runs report different municipalities ({len(old_codes)} in "
            f"{old.provenance.data_year}, {len(new_codes)} in {new.provenance.data_year}); "
            "give both the same boundaries and selection"
        )
    judged = None
    if old.provenance.standard != new.provenance.standard:
        if old.evidence is None:
            raise ConfigError(
                "the standards of the two runs differ: the old run must keep its evidence "
                "(run(config, keep_evidence=True))"
            )
        judged = classify(old.evidence, new.provenance.standard)["underserved"]
    return compare_vintages(
        old.households,
        new.households,
        new.boundaries,
        old_provenance=old.provenance,
        new_provenance=new.provenance,
        old_under_new_standard=judged,
    )


def report_extras(
    config: RunConfig, results: Results, *, progress: bool = False
) -> tuple[ClaimCheck | None, VintageChange | None]:
    """Return the claim check and the change that a report of ``config`` includes.

    With a ``[claim]`` section that sets a share, the claim is checked on every data
    year; with ``[[vintage]]`` sections, the change from the latest older vintage to
    ``results`` (the run of ``config`` itself, made with ``keep_evidence=True``) is
    computed. ``(None, None)`` for a configuration with neither.
    """
    claim = config.claim
    wants_claim = claim is not None and claim.share is not None
    if not wants_claim and not config.vintages:
        return None, None
    runs = run_vintages(config, progress=progress, first=results)
    check = (
        check_runs(runs, claim.claim(), claim.grid) if claim is not None and wants_claim else None
    )
    older = previous_run(runs)
    change = change_between(older, results) if older is not None else None
    return check, change


def _year_key(year: object) -> tuple[int, int, str]:
    text = str(year)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def previous_run(runs: Sequence[Results]) -> Results | None:
    """Return the run of the latest data year before the first run's (None if none).

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> runs = [N(provenance=N(data_year=y)) for y in (2026, 2024, 2025, 2027)]
    >>> previous_run(runs).provenance.data_year
    2025
    """
    if not runs:
        return None
    own = _year_key(runs[0].provenance.data_year)
    earlier = [r for r in runs[1:] if _year_key(r.provenance.data_year) < own]
    return max(earlier, key=lambda r: _year_key(r.provenance.data_year), default=None)
