"""Named errors of coverage_gap.

Every error the library raises on purpose derives from :class:`CoverageGapError`, so a
batch script can catch one type. Input problems are collected as :class:`Problem`
records and raised together as one :class:`InputError`, so that a user fixes every
problem of a run at once instead of one per attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input layer.

    Parameters
    ----------
    source
        The file (or layer name) the problem was found in.
    message
        What is wrong, in one sentence.
    fix
        What the user should do about it.
    column
        The column concerned, if any.
    rows
        The first offending row labels (at most a handful), if any.
    count
        How many rows are affected (0 when the problem is not about rows).
    severity
        ``"error"`` stops the run; ``"warning"`` is reported and the run goes on.
    lines
        Whether ``rows`` are line numbers of a text file (the header is line 1) rather
        than row labels.
    """

    source: str
    message: str
    fix: str = ""
    column: str | None = None
    rows: tuple[object, ...] = ()
    count: int = 0
    severity: Severity = "error"
    lines: bool = False

    def __str__(self) -> str:
        where = self.source + (f", column '{self.column}'" if self.column else "")
        text = f"{where}: {self.message}"
        if self.count:
            text += f" ({self.count} row{'s' if self.count != 1 else ''}"
            if self.rows:
                text += (", first lines: " if self.lines else ", first: ") + ", ".join(
                    repr(r) for r in self.rows
                )
            text += ")"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable form (for manifests)."""
        return {
            "source": self.source,
            "severity": self.severity,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
            "count": self.count,
            "rows": [str(r) for r in self.rows],
            "rows_are": "file lines" if self.lines else "row labels",
        }


class CoverageGapError(Exception):
    """Base class of every error coverage_gap raises on purpose."""


class InputError(CoverageGapError, ValueError):
    """One or more inputs are unusable; ``problems`` lists every problem found.

    A :class:`ValueError` too, so that ``except ValueError`` catches it.
    """

    def __init__(self, problems: Sequence[Problem] | Problem | str, source: str = "input"):
        if isinstance(problems, str):
            problems = [Problem(source=source, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"] or list(self.problems)
        head = f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the input"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in errors))


class SchemaError(InputError):
    """A column is missing, ambiguous or of the wrong type."""


class CRSError(InputError):
    """A layer has no CRS, a CRS that contradicts its coordinates, or one that cannot be used."""


class EmptyInputError(InputError):
    """A layer has no rows or no usable geometry."""


class RasterError(InputError):
    """A signal raster cannot be used (no CRS, no overlap with the households, ...)."""


class OfferMatchError(InputError):
    """An offer table matches too few households: probably keyed on the wrong column."""


class AssignmentError(InputError):
    """Too few households lie in (or near) any municipality: swapped axes or a wrong CRS."""


class ConfigError(CoverageGapError, ValueError):
    """The run configuration (TOML or arguments) is incomplete or contradictory."""


class PlotError(CoverageGapError, ValueError):
    """A chart cannot be drawn from what it was given (a service not assessed, no rows).

    The message names what is missing and what to pass instead.
    """


class OutputError(CoverageGapError, OSError):
    """An output cannot be written (folder, permissions, disk space, an input in the way)."""


class FetchError(CoverageGapError, OSError):
    """A download failed (offline, wrong address, checksum mismatch)."""


class ReconciliationError(CoverageGapError, RuntimeError):
    """Totals do not reconcile with the input: a bug, never a user error."""


@dataclass
class ProblemLog:
    """Collects problems from several stages, then raises them once.

    Examples
    --------
    >>> log = ProblemLog()
    >>> log.add(Problem("a.csv", "3 rows have no coordinates", severity="warning"))
    >>> log.raise_if_errors()  # only warnings: nothing raised
    >>> len(log.warnings)
    1
    """

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        """Record one problem."""
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record several problems."""
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the run."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported while the run goes on."""
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        """Raise one :class:`InputError` listing every error, if there is any."""
        errors = self.errors
        if not errors:
            return
        raise InputError(errors)
