"""One progress helper for the long steps.

Reading a national BBK file, downloading, writing a report: a bar on stderr, shown only
when asked and only on a terminal (a batch log or a notebook cell gets no
carriage-return noise); ``tqdm`` draws it.
"""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(total: float | None, *, desc: str, enabled: bool, unit: str = "it") -> Any:
    """Return a ``tqdm`` bar, disabled unless ``enabled`` and stderr is a terminal.

    Use it as a context manager and call ``update(n)``; a disabled bar does nothing.

    Examples
    --------
    >>> with progress_bar(3, desc="steps", enabled=False) as bar:
    ...     bar.update(3)
    >>> bar.disable
    True
    """
    from tqdm import tqdm

    show = enabled and sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024 if unit == "B" else 1000,
        disable=not show,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
