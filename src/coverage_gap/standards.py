"""Service standards: what "served" means, stated explicitly, and what a figure means.

A :class:`ServiceStandard` is a frozen dataclass of thresholds plus the rule that turns
fixed and mobile service into "under-served". Named presets cover the definitions in use
abroad (gigabit, 10/1, BEAD) and in Denmark (:mod:`coverage_gap.danish.presets`: 100/30,
mobile 30/3); :func:`get_standard` looks them up by name. :class:`Provenance` (standard,
denominator, data year, source) travels with every table and figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal

from .errors import ConfigError

UnderservedRule = Literal["no_fixed", "no_fixed_and_no_mobile", "no_mobile"]
MissingUpload = Literal["unserved", "download_only"]

_RULE_TEXT = {
    "en": {
        "no_fixed": "no fixed service at the standard",
        "no_fixed_and_no_mobile": "neither fixed nor mobile service at the standard",
        "no_mobile": "no mobile service at the standard",
    },
    "da": {
        "no_fixed": "ingen fast forbindelse på niveauet",
        "no_fixed_and_no_mobile": "hverken fast eller mobil forbindelse på niveauet",
        "no_mobile": "ingen mobil forbindelse på niveauet",
    },
}


def _num(value: float, lang: str = "en") -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "da" else text


#: The name of the whole area when the configuration gives none ([meta] area_name).
DEFAULT_AREA_NAME = "All municipalities"


#: Signal levels (RSRP, dBm) a mobile raster or threshold can hold.
PLAUSIBLE_DBM = (-160.0, -20.0)


@dataclass(frozen=True)
class ServiceStandard:
    """An explicit, technology-neutral definition of adequate service.

    Parameters
    ----------
    name
        Short name shown in tables and figure footers, e.g. ``"100/30"``.
    fixed_down_mbps, fixed_up_mbps
        Minimum fixed download and upload (Mbit/s). One offer must meet both. ``None``
        for upload means no upload requirement; ``None`` for download means fixed
        service is not assessed.
    mobile_min_dbm
        Minimum signal (RSRP, dBm) of the best operator, used with signal rasters or
        signal polygons.
    mobile_down_mbps, mobile_up_mbps
        Minimum mobile download/upload (Mbit/s), used with per-address mobile speeds.
    underserved
        ``"no_fixed"``: no fixed offer meets the standard; ``"no_fixed_and_no_mobile"``:
        neither fixed nor mobile does; ``"no_mobile"``: no mobile service does.
    missing_upload
        How an offer without an upload figure counts: ``"unserved"`` (it cannot prove
        the upload threshold; the conservative default) or ``"download_only"`` (judged
        on download alone).

    Examples
    --------
    >>> s = ServiceStandard("100/30", fixed_down_mbps=100, fixed_up_mbps=30)
    >>> s.describe()
    'fixed ≥ 100/30 Mbit/s; under-served = no fixed service at the standard'
    >>> s.with_rule("no_fixed_and_no_mobile", mobile_min_dbm=-105).mobile_min_dbm
    -105
    """

    name: str
    fixed_down_mbps: float | None = None
    fixed_up_mbps: float | None = None
    mobile_min_dbm: float | None = None
    mobile_down_mbps: float | None = None
    mobile_up_mbps: float | None = None
    underserved: UnderservedRule = "no_fixed"
    missing_upload: MissingUpload = "unserved"

    def __post_init__(self) -> None:
        problems = []
        for field_name in (
            "fixed_down_mbps",
            "fixed_up_mbps",
            "mobile_down_mbps",
            "mobile_up_mbps",
        ):
            value = getattr(self, field_name)
            if value is not None and (not math.isfinite(value) or value < 0):
                problems.append(f"{field_name} must be a finite number >= 0, got {value!r}")
        low, high = PLAUSIBLE_DBM
        if self.mobile_min_dbm is not None and not (
            math.isfinite(self.mobile_min_dbm) and low <= self.mobile_min_dbm <= high
        ):
            problems.append(
                f"mobile_min_dbm must be a signal level from {low:g} to {high:g} dBm (RSRP is "
                f"negative), got {self.mobile_min_dbm!r}"
            )
        if self.underserved not in _RULE_TEXT["en"]:
            problems.append(
                f"underserved must be one of {sorted(_RULE_TEXT['en'])}, got {self.underserved!r}"
            )
        if self.missing_upload not in ("unserved", "download_only"):
            problems.append(
                f"missing_upload must be 'unserved' or 'download_only', got {self.missing_upload!r}"
            )
        if self.uses_fixed and self.fixed_down_mbps is None:
            problems.append(f"rule {self.underserved!r} needs fixed_down_mbps")
        if self.uses_mobile and not self.has_mobile_threshold:
            problems.append(f"rule {self.underserved!r} needs mobile_min_dbm or mobile_down_mbps")
        if problems:
            raise ConfigError(f"service standard {self.name!r}: " + "; ".join(problems))

    @property
    def uses_fixed(self) -> bool:
        """Whether the under-served rule looks at fixed service."""
        return self.underserved in ("no_fixed", "no_fixed_and_no_mobile")

    @property
    def uses_mobile(self) -> bool:
        """Whether the under-served rule looks at mobile service."""
        return self.underserved in ("no_mobile", "no_fixed_and_no_mobile")

    @property
    def has_mobile_threshold(self) -> bool:
        """Whether any mobile threshold (signal or speed) is set."""
        return self.mobile_min_dbm is not None or self.mobile_down_mbps is not None

    def with_rule(self, underserved: UnderservedRule, **changes: object) -> ServiceStandard:
        """Return a copy with another under-served rule (and other fields changed)."""
        return replace(self, underserved=underserved, **changes)  # type: ignore[arg-type]

    def describe(self, lang: str = "en") -> str:
        """One line stating the thresholds and the rule, for footers and tables.

        Parameters
        ----------
        lang
            ``"en"`` or ``"da"``.
        """
        texts = _RULE_TEXT["da" if lang == "da" else "en"]
        parts = []
        if self.fixed_down_mbps is not None:
            speed = _num(self.fixed_down_mbps, lang)
            if self.fixed_up_mbps is not None:
                speed += "/" + _num(self.fixed_up_mbps, lang)
            parts.append(("fast" if lang == "da" else "fixed") + f" ≥ {speed} Mbit/s")
        mobile = []
        if self.mobile_min_dbm is not None:
            mobile.append(f"≥ {_num(self.mobile_min_dbm, lang)} dBm")
        if self.mobile_down_mbps is not None:
            speed = _num(self.mobile_down_mbps, lang)
            if self.mobile_up_mbps is not None:
                speed += "/" + _num(self.mobile_up_mbps, lang)
            mobile.append(f"≥ {speed} Mbit/s")
        if mobile:
            parts.append(("mobil " if lang == "da" else "mobile ") + " or ".join(mobile))
        label = "underforsynet" if lang == "da" else "under-served"
        return "; ".join(parts) + f"; {label} = {texts[self.underserved]}"

    def to_dict(self) -> dict[str, object]:
        """Return the fields as a plain dict (for manifests)."""
        return asdict(self)


GIGABIT = ServiceStandard("gigabit", fixed_down_mbps=1000)
"""EU Digital Decade: fixed ≥ 1000 Mbit/s down (no upload requirement)."""

BASIC_10_1 = ServiceStandard("10/1", fixed_down_mbps=10, fixed_up_mbps=1)
"""Basic broadband (UK USO "decent broadband"): fixed ≥ 10/1 Mbit/s."""

BEAD_UNSERVED = ServiceStandard("BEAD unserved", fixed_down_mbps=25, fixed_up_mbps=3)
"""US BEAD programme: a location is *unserved* below 25/3 Mbit/s."""

BEAD_UNDERSERVED = ServiceStandard("BEAD underserved", fixed_down_mbps=100, fixed_up_mbps=20)
"""US BEAD programme: a location is *underserved* below 100/20 Mbit/s."""

# The Danish presets live with the rest of the Danish knowledge; they need ServiceStandard,
# defined above, so they are imported here rather than at the top.
from .danish.presets import DK_100_30, MOBILE_30_3  # noqa: E402

PRESETS: dict[str, ServiceStandard] = {
    s.name: s
    for s in (DK_100_30, GIGABIT, BASIC_10_1, MOBILE_30_3, BEAD_UNSERVED, BEAD_UNDERSERVED)
}
"""Named presets, by :attr:`ServiceStandard.name`."""


def get_standard(name: str) -> ServiceStandard:
    """Return the preset called ``name``.

    Examples
    --------
    >>> get_standard("100/30").fixed_up_mbps
    30
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown service standard {name!r}; presets are {sorted(PRESETS)}"
        ) from None


#: What a household count can count, with its English and Danish word.
DENOMINATORS: dict[str, tuple[str, str]] = {
    "households": ("households", "husstande"),
    "dwellings": ("dwellings", "boliger"),
    "addresses": ("addresses", "adresser"),
}


@dataclass(frozen=True)
class Provenance:
    """What a figure means and where it comes from; travels with every table.

    Parameters
    ----------
    standard
        The service standard the figures were computed under.
    denominator
        What the ``households`` column counts: ``"households"``, ``"dwellings"`` or
        ``"addresses"``.
    data_year
        Year of the coverage data (e.g. the mapping year).
    source
        Source of the data, as it should appear in a footer.
    area_name
        Name of the whole area, used for the region row.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> footer = Provenance(DK_100_30, "households", 2026, "BBK 2026").footer()
    >>> print(footer.replace(" · ", chr(10)))
    Standard: fixed ≥ 100/30 Mbit/s; under-served = no fixed service at the standard
    Denominator: households
    Data: 2026
    Source: BBK 2026
    """

    standard: ServiceStandard
    denominator: str = "households"
    data_year: int | str | None = None
    source: str = "unknown source"
    area_name: str = DEFAULT_AREA_NAME

    def __post_init__(self) -> None:
        if self.denominator not in DENOMINATORS:
            raise ConfigError(
                f"denominator must be one of {sorted(DENOMINATORS)}, got {self.denominator!r}"
            )

    def area(self, lang: str = "en") -> str:
        """Return the area's name for a figure in ``lang``; the default name is translated.

        Examples
        --------
        >>> from coverage_gap.standards import DK_100_30
        >>> Provenance(DK_100_30).area("da")
        'Alle kommuner'
        >>> Provenance(DK_100_30, area_name="Region Sjælland").area("da")
        'Region Sjælland'
        """
        if self.area_name == DEFAULT_AREA_NAME and lang == "da":
            return "Alle kommuner"
        return self.area_name

    def footer(self, lang: str = "en") -> str:
        """Return the one-line definition printed under every figure and table."""
        da = lang == "da"
        denominator = DENOMINATORS[self.denominator][1 if da else 0]
        year = ("ukendt" if da else "unknown") if self.data_year is None else str(self.data_year)
        return " · ".join(
            [
                f"{'Niveau' if da else 'Standard'}: {self.standard.describe(lang)}",
                f"{'Nævner' if da else 'Denominator'}: {denominator}",
                f"Data: {year}",
                f"{'Kilde' if da else 'Source'}: {self.source}",
            ]
        )

    def columns(self) -> dict[str, str]:
        """Columns added to every row of an output table."""
        return {
            "service_standard": self.standard.describe(),
            "denominator": self.denominator,
            "data_year": "" if self.data_year is None else str(self.data_year),
            "source": self.source,
        }
