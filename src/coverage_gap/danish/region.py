"""Region Sjælland: the one constant that names its municipalities and their facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Municipality(NamedTuple):
    """A municipality of a region, with the facts the demo and the reports use.

    Attributes
    ----------
    code, name
        DAGI code (4-digit text) and name.
    population
        Inhabitants on 1 January 2023 (Statistics Denmark, FOLK1A).
    main_town
        Seat or namesake town.
    x, y
        The main town in EPSG:25832.
    """

    code: str
    name: str
    population: int
    main_town: str
    x: float
    y: float


@dataclass(frozen=True)
class Region:
    """A Danish region: its code, name and municipalities.

    Examples
    --------
    >>> REGION_SJAELLAND.codes[:3], len(REGION_SJAELLAND)
    (('0253', '0259', '0265'), 17)
    >>> REGION_SJAELLAND["0360"].name
    'Lolland'
    """

    code: str
    name: str
    municipalities: tuple[Municipality, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """Municipality codes, in code order."""
        return tuple(m.code for m in self.municipalities)

    def __len__(self) -> int:
        return len(self.municipalities)

    def __getitem__(self, code: str) -> Municipality:
        for municipality in self.municipalities:
            if municipality.code == code:
                return municipality
        raise KeyError(code)


REGION_SJAELLAND = Region(
    "1085",
    "Region Sjælland",
    (
        Municipality("0253", "Greve", 51507, "Greve", 707981.1, 6164650.1),
        Municipality("0259", "Køge", 62458, "Køge", 701194.6, 6150365.4),
        Municipality("0265", "Roskilde", 90446, "Roskilde", 693855.3, 6170486.4),
        Municipality("0269", "Solrød", 24216, "Solrød Strand", 703344.8, 6158805.3),
        Municipality("0306", "Odsherred", 32977, "Nykøbing Sjælland", 666890.4, 6200945.5),
        Municipality("0316", "Holbæk", 73440, "Holbæk", 670399.6, 6177973.0),
        Municipality("0320", "Faxe", 37344, "Haslev", 688037.9, 6134787.8),
        Municipality("0326", "Kalundborg", 48602, "Kalundborg", 631329.2, 6172391.5),
        Municipality("0329", "Ringsted", 35906, "Ringsted", 676484.4, 6147585.4),
        Municipality("0330", "Slagelse", 79728, "Slagelse", 649092.3, 6142134.0),
        Municipality("0336", "Stevns", 23692, "Store Heddinge", 715063.0, 6134481.9),
        Municipality("0340", "Sorø", 30444, "Sorø", 661690.2, 6145817.9),
        Municipality("0350", "Lejre", 28930, "Lejre", 687389.1, 6166090.7),
        Municipality("0360", "Lolland", 39921, "Maribo", 660802.4, 6072801.2),
        Municipality("0370", "Næstved", 84574, "Næstved", 675576.9, 6123853.2),
        Municipality("0376", "Guldborgsund", 60231, "Nykøbing Falster", 684890.2, 6072882.5),
        Municipality("0390", "Vordingborg", 45441, "Vordingborg", 686120.4, 6099557.0),
    ),
)
"""Region Sjælland (region code 1085): its 17 municipalities, population 1 Jan 2023."""

#: Regions that readers know by name (``read_dagi(region=...)``).
REGIONS: dict[str, Region] = {"sjaelland": REGION_SJAELLAND, "1085": REGION_SJAELLAND}
