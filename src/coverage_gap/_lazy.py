"""Names of a package imported on first use (PEP 562), so that importing it stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, names: Mapping[str, str], own: Callable[[], dict[str, Any]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``__getattr__`` and ``__dir__`` for a package whose names live in submodules.

    ``names`` maps each name to the submodule (relative, ``".readers"``) that defines it;
    ``own`` returns the package's own globals (for ``dir``).

    Examples
    --------
    >>> get, listing = lazy_names("coverage_gap.io", {"read_offers": ".offers"}, dict)
    >>> get("read_offers").__name__, listing()
    ('read_offers', ['read_offers'])
    """

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(names[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*own(), *names])

    return __getattr__, __dir__
