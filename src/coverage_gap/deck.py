"""A presentation deck (PowerPoint) from a run: the regional story and a slide per municipality.

The deck is written with python-pptx from the same tables and the same figure
functions as the report (:func:`coverage_gap.report.report_charts`,
:func:`coverage_gap.report.fact_sheet`), so the two never disagree. Slides:

1. title: area, data year, standard, source;
2. the regional headline as a sentence with its interval and denominator;
3. the report's charts: map, hotspots, ranking, breakdown; with a claim check its
   specification curve, with a change since an older vintage the waterfall and the
   change per municipality; the maps of where to act (DDKN cells, the broadband pool,
   mast sites) when the run has them; with a projection demand and growth;
4. one slide per municipality (its fact sheet with its change, when there is one;
   its rank in the title), an honest no-data slide where the data hold none of its
   households;
5. definitions, sources, the reconciliation and checksums.

Every slide carries speaker notes with the exact definition, the numbers behind it and
the command that regenerates it. Figures are inserted as 200 dpi PNG drawn for the
slide's picture area (python-pptx cannot embed SVG in a way every viewer shows).

An organisation's template (a ``.pptx``) gives the slide size, the layouts (chosen by
their placeholder types), fonts, colours and logo. Text is fitted to its placeholder by
measuring it (:func:`fit_font_size`) and every text frame is checked before the file is
written (:func:`text_overflows`). The bytes are deterministic: fixed core properties and
zip entry times, no random ids.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import schema as S
from .errors import ConfigError, OutputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from pptx.presentation import Presentation as PresentationType
    from pptx.slide import Slide, SlideLayout

    from .changes import VintageChange
    from .claims import ClaimCheck
    from .pipeline import Results

EMU_PER_INCH = 914400
WIDESCREEN = (13.333, 7.5)
"""Slide size (inches, 16:9) of the deck without a template."""
FIXED_TIME = datetime(2000, 1, 1)
"""Creation, modification and printing time written into every deck (same inputs, same bytes)."""
MIN_TITLE_PT = 14.0
MIN_BODY_PT = 10.0
LINE_HEIGHT = 1.2
"""Line height as a multiple of the font size used when estimating text extents."""
PARAGRAPH_SPACE = 0.35
"""Space before a paragraph (after the first), as a multiple of its font size."""


class DeckError(OutputError):
    """A deck cannot be written: a target that is not a ``.pptx`` file, unusable layouts."""


class TextOverflowError(DeckError):
    """Text does not fit its placeholder, even at the smallest allowed font size."""


class TemplateError(ConfigError):
    """The template given (``--template``) is missing or not a PowerPoint presentation."""


# --- texts ------------------------------------------------------------------------------

TEXT = {
    "en": {
        "deck_title": "Under-served {unit} in {area}",
        "deck_title_year": "Under-served {unit} in {area}, {year}",
        "standard_line": "Standard {name}: {phrase}",
        "source_line": "Source: {source}",
        "data_line": "Data: {year} · Denominator: {unit}",
        "partial": "Only {n} of {k} municipalities have {unit} in the data; "
        "the figures cover only those.",
        "headline_title": "{area} as a whole",
        "offers_found": "Offers found for {share} of the addresses ({matched} of {counted}): "
        "the rest count as without fixed service.",
        "offers_missing": "No offer found in {n} of the municipalities with data: {names}.",
        "notes_offers": "OFFER MATCH: {text}",
        "headline": "{share} of the {unit_def} in {area} ({interval}) {verb}.",
        "interval": "95\u00a0% interval {low}–{high}",
        "counts": "{count} of {total} {unit} under-served.",
        "no_households": "The data hold no {unit} in {area}: there is no regional figure.",
        "claim_in": "The claim, {claim}, lies inside the 95 % interval.",
        "claim_out": "The claim, {claim}, lies outside the 95 % interval.",
        "no_fixed": "do not have fixed broadband ≥ {fixed}",
        "no_mobile": "do not have mobile ≥ {mobile}",
        "no_fixed_and_no_mobile": "have neither fixed broadband ≥ {fixed} nor mobile ≥ {mobile}",
        "rank_title": "{name} ({code}) · rank {rank} of {n}",
        "rank_title_partial": "{name} ({code}) · rank {rank} of {n} with data",
        "no_data_title": "{name} ({code}) · no data",
        "few_title": " (few {unit})",
        "sources_title": "Definitions, sources and reconciliation",
        "definition": "Definition",
        "rule": "Exact definition",
        "denominator": "Denominator",
        "data_year": "Data year",
        "source": "Source",
        "interval_note": "95 % Wilson interval: how precisely the number of {unit} pins the "
        "share down, not how wrong the operators' declarations may be",
        "inputs": "Input files (SHA-256)",
        "more_inputs": "and {n} more (see manifest.json)",
        "reconciliation": "Reconciliation",
        "rec_line": "{read} addresses read ({read_h} {unit}): {assigned} assigned to a "
        "municipality ({inside} inside, {nearest} nearest within the tolerance), "
        "{outside} outside the selected municipalities, {unassigned} unassigned, "
        "{invalid} invalid (no usable point)",
        "manifest": "Manifest",
        "manifest_sha": "manifest.json SHA-256 {sha}",
        "manifest_beside": "manifest.json in this deck's folder lists the SHA-256 of the deck "
        "and of the inputs",
        "made_with": "Made with coverage_gap {version}",
        "notes_definition": "Definition: {describe}",
        "notes_footer": "Provenance: {footer}",
        "notes_figure_footer": "Under the figures: {footer}",
        "notes_regenerate": "Regenerate: {command}",
        "notes_figure": "Figure: {call}",
        "notes_numbers": "Numbers:",
        "notes_share": "{name}: {share} ({interval}); {count} of {total} {unit}",
        "notes_no_data": "{name}: no {unit} in the data",
        "notes_few": "fewer than {n} {unit}: uncertain",
        "notes_rank": "Rank {rank} of {n} municipalities with data "
        "(1 = the largest share under-served; equal shares share a rank).",
        "notes_gap": "{label}: {count} {unit} ({share}; {area} {region})",
        "gap_line": "{label}: {count} {unit} ({share})",
        "notes_region": "{area}: {share} ({interval}); {count} of {total} {unit}.",
        "notes_missing_upload": "{n} {unit} would change status if offers without an upload "
        "figure were judged the other way (missing_upload).",
        "notes_hotspots": "{count} under-served {unit} in {cells} cells of 1 km²; "
        "the most in one cell: {top}.",
        "notes_demand": "{scenario} ({definition}): {base} GB per month in {base_year}, "
        "{end} GB per month in {horizon} (×{factor}); busy hour {busy} Mbit/s in {horizon}.",
        "notes_demand_assumption": "Assumption: {gb} GB per {unit_one} and month in {year}.",
        "notes_growth": "{period}: {growth} a year ({source})",
        "notes_scenario": "{name}: {definition}",
        "notes_reconciliation": "Addresses / {unit} by assignment: {rows}.",
        "notes_inputs": "Input files: {files}.",
        "notes_title": "Deck of a coverage_gap run; every figure and number comes from the "
        "run's tables (municipalities.csv).",
        "notes_partial": "PARTIAL: only {n} of {k} municipalities have {unit} in the data.",
        "notes_no_data_sheet": "The data hold no {unit} of {name}: no figures for the "
        "municipality; the slide shows where it lies.",
        "notes_change": "{name}: {old} → {new}: {net} under-served {unit}; {bs} became served, "
        "{bu} became under-served, {a} added, {r} removed.",
        "notes_claim": "{verdict}",
    },
    "da": {
        "deck_title": "Underforsynede {unit} i {area}",
        "deck_title_year": "Underforsynede {unit} i {area}, {year}",
        "standard_line": "Niveau {name}: {phrase}",
        "source_line": "Kilde: {source}",
        "data_line": "Data: {year} · Nævner: {unit}",
        "partial": "Kun {n} af {k} kommuner har {unit} i data; tallene dækker kun dem.",
        "headline_title": "{area} samlet",
        "offers_found": "Tilbud fundet for {share} af adresserne ({matched} af {counted}): "
        "resten tælles som uden fast forbindelse.",
        "offers_missing": "Intet tilbud fundet i {n} af kommunerne med data: {names}.",
        "notes_offers": "TILBUDSMATCH: {text}",
        "headline": "{share} af {unit_def} i {area} ({interval}) {verb}.",
        "interval": "95\u00a0%-interval {low}–{high}",
        "counts": "{count} af {total} {unit} er underforsynede.",
        "no_households": "Data indeholder ingen {unit} i {area}: der er intet regionalt tal.",
        "claim_in": "Påstanden, {claim}, ligger inden for 95 %-intervallet.",
        "claim_out": "Påstanden, {claim}, ligger uden for 95 %-intervallet.",
        "no_fixed": "har ikke fast bredbånd ≥ {fixed}",
        "no_mobile": "har ikke mobil ≥ {mobile}",
        "no_fixed_and_no_mobile": "har hverken fast bredbånd ≥ {fixed} eller mobil ≥ {mobile}",
        "rank_title": "{name} ({code}) · nr. {rank} af {n}",
        "rank_title_partial": "{name} ({code}) · nr. {rank} af {n} med data",
        "no_data_title": "{name} ({code}) · ingen data",
        "few_title": " (få {unit})",
        "sources_title": "Definitioner, kilder og afstemning",
        "definition": "Niveau",
        "rule": "Præcis definition",
        "denominator": "Nævner",
        "data_year": "Dataår",
        "source": "Kilde",
        "interval_note": "95 % Wilson-interval: viser hvor præcist antallet af {unit} "
        "bestemmer andelen, ikke hvor forkerte operatørernes oplysninger kan være",
        "inputs": "Inputfiler (SHA-256)",
        "more_inputs": "og {n} flere (se manifest.json)",
        "reconciliation": "Afstemning",
        "rec_line": "{read} adresser læst ({read_h} {unit}): {assigned} tildelt en kommune "
        "({inside} inden for, {nearest} nærmeste inden for tolerancen), {outside} i "
        "kommuner uden for udvalget, {unassigned} uden kommune, {invalid} ugyldige "
        "(uden brugbart punkt)",
        "manifest": "Manifest",
        "manifest_sha": "manifest.json SHA-256 {sha}",
        "manifest_beside": "manifest.json i dækkets mappe angiver SHA-256 for dækket og for "
        "inputfilerne",
        "made_with": "Lavet med coverage_gap {version}",
        "notes_definition": "Definition: {describe}",
        "notes_footer": "Herkomst: {footer}",
        "notes_figure_footer": "Under figurerne: {footer}",
        "notes_regenerate": "Genskab: {command}",
        "notes_figure": "Figur: {call}",
        "notes_numbers": "Tal:",
        "notes_share": "{name}: {share} ({interval}); {count} af {total} {unit}",
        "notes_no_data": "{name}: ingen {unit} i data",
        "notes_few": "færre end {n} {unit}: usikker",
        "notes_rank": "Nr. {rank} af {n} kommuner med data "
        "(1 = største andel underforsynede; lige store andele deler nummer).",
        "notes_gap": "{label}: {count} {unit} ({share}; {area} {region})",
        "gap_line": "{label}: {count} {unit} ({share})",
        "notes_region": "{area}: {share} ({interval}); {count} af {total} {unit}.",
        "notes_missing_upload": "{n} {unit} ville skifte status, hvis tilbud uden uploadtal "
        "blev bedømt omvendt (missing_upload).",
        "notes_hotspots": "{count} underforsynede {unit} i {cells} celler på 1 km²; "
        "flest i én celle: {top}.",
        "notes_demand": "{scenario} ({definition}): {base} GB pr. måned i {base_year}, "
        "{end} GB pr. måned i {horizon} (×{factor}); travleste time {busy} Mbit/s i {horizon}.",
        "notes_demand_assumption": "Antagelse: {gb} GB pr. {unit_one} og måned i {year}.",
        "notes_growth": "{period}: {growth} om året ({source})",
        "notes_scenario": "{name}: {definition}",
        "notes_reconciliation": "Adresser / {unit} efter tildeling: {rows}.",
        "notes_inputs": "Inputfiler: {files}.",
        "notes_title": "Dæk fra en kørsel af coverage_gap; alle figurer og tal kommer fra "
        "kørslens tabeller (municipalities.csv).",
        "notes_partial": "DELVIS: kun {n} af {k} kommuner har {unit} i data.",
        "notes_no_data_sheet": "Data indeholder ingen {unit} i {name}: ingen tal for "
        "kommunen; sliden viser, hvor den ligger.",
        "notes_change": "{name}: {old} → {new}: {net} underforsynede {unit}; {bs} blev "
        "forsynet, {bu} blev underforsynet, {a} tilføjet, {r} fjernet.",
        "notes_claim": "{verdict}",
    },
}

#: The denominator with the definite article, for the headline sentence.
DEFINITE = {
    "households": ("households", "husstandene"),
    "dwellings": ("dwellings", "boligerne"),
    "addresses": ("addresses", "adresserne"),
}

_STATUS = {
    "en": {
        "inside": "inside",
        "nearest": "nearest",
        "outside_selection": "outside the selection",
        "unassigned": "unassigned",
        "invalid": "invalid",
        "total": "total",
    },
    "da": {
        "inside": "inden for",
        "nearest": "nærmeste",
        "outside_selection": "uden for udvalget",
        "unassigned": "uden kommune",
        "invalid": "ugyldige",
        "total": "i alt",
    },
}

_GROWTH_SOURCES_DA = {
    "Telestatistik and operator reports": "Telestatistik og operatørernes rapporter"
}


def _minus(text: str) -> str:
    """Write negative numbers with a minus sign (−105 dBm), as every figure does."""
    return re.sub(r"(?<![\w.])-(?=\d)", "\u2212", text)


def _say(key: str, lang: str, **values: object) -> str:
    return TEXT["da" if lang == "da" else "en"][key].format(**values)


# --- measuring text ---------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a text box: its text, size relative to the box's base size, weight.

    ``label`` is written in bold before the text, followed by a colon.
    """

    text: str
    scale: float = 1.0
    bold: bool = False
    label: str = ""

    def words(self) -> list[tuple[str, bool]]:
        """Return the words with their weight, as they are measured."""
        head = [(w, True) for w in f"{self.label}:".split(" ")] if self.label else []
        return head + [(w, self.bold) for w in self.text.split(" ")]


@functools.lru_cache(maxsize=4)
def _font(bold: bool) -> Any:
    from matplotlib.font_manager import FontProperties, findfont, get_font

    # DejaVu Sans ships with matplotlib, so the measurement (and with it the chosen font
    # sizes and the deck's bytes) is the same on every machine; it runs wider than
    # Calibri, Carlito, Arial and Liberation Sans, so text measured with it fits theirs.
    prop = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")
    return get_font(findfont(prop, fallback_to_default=True))


@functools.lru_cache(maxsize=65536)
def _width_per_pt(text: str, bold: bool) -> float:
    """Width of ``text`` in points at a font size of 1 pt."""
    font = _font(bold)
    font.set_size(100.0, 72)
    font.set_text(text, 0.0)
    width, _ = font.get_width_height()
    return width / 64.0 / 100.0


def text_width_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Estimate the width of one line of text in points (measured with DejaVu Sans).

    Examples
    --------
    >>> round(text_width_pt("Region Sjælland", 20) / 72, 2)  # inches
    2.25
    """
    return _width_per_pt(text, bold) * size_pt


def count_lines(text: str, size_pt: float, width_pt: float, *, bold: bool = False) -> int:
    """Count the lines ``text`` takes when wrapped at spaces into ``width_pt``.

    Greedy, as PowerPoint wraps; a word wider than the line is broken and counts its
    pieces.

    Examples
    --------
    >>> count_lines("one two three", 20, 1000), count_lines("one two three", 20, 60)
    (1, 3)
    """
    return sum(
        _count_words([(w, bold) for w in part.split(" ")], size_pt, width_pt)
        for part in text.split("\n")
    )


def _count_words(words: Sequence[tuple[str, bool]], size_pt: float, width_pt: float) -> int:
    lines, used = 1, None
    for word, bold in words:
        w = text_width_pt(word, size_pt, bold=bold)
        if w > width_pt:  # PowerPoint breaks a word wider than the line inside it
            extra = math.ceil(w / width_pt)
            lines += extra - (1 if used is None else 0)
            used = w - (extra - 1) * width_pt
        elif used is None:
            used = w
        elif used + text_width_pt(" ", size_pt, bold=bold) + w <= width_pt:
            used += text_width_pt(" ", size_pt, bold=bold) + w
        else:
            lines, used = lines + 1, w
    return lines


@dataclass(frozen=True)
class _Runs:
    """A paragraph as it stands in a file: runs of text, each bold or not."""

    runs: tuple[tuple[str, bool], ...]
    scale: float = 1.0

    def words(self) -> list[tuple[str, bool]]:
        words: list[tuple[str, bool]] = []
        current, bold = "", False
        for text, run_bold in self.runs:
            for char in text:
                if char == " ":
                    words.append((current, bold))
                    current, bold = "", False
                else:
                    current += char
                    bold = bold or run_bold
        words.append((current, bold))
        return words


def text_height_pt(
    paragraphs: Sequence[Paragraph | _Runs], size_pt: float, width_pt: float
) -> float:
    """Estimated height of paragraphs at base size ``size_pt`` wrapped into ``width_pt``.

    Examples
    --------
    >>> text_height_pt([Paragraph("a"), Paragraph("b", scale=2)], 10, 500)  # 12 + 7 + 24
    43.0
    """
    height = 0.0
    for i, para in enumerate(paragraphs):
        size = _run_size(size_pt, para.scale)
        if i:
            height += round(PARAGRAPH_SPACE * size)
        height += _count_words(para.words(), size, width_pt) * LINE_HEIGHT * size
    return height


def _run_size(base: float, scale: float) -> float:
    return max(1.0, round(base * scale * 2) / 2)  # half points, as PowerPoint stores them


def fit_font_size(
    paragraphs: Sequence[Paragraph],
    width_in: float,
    height_in: float,
    *,
    max_pt: float,
    min_pt: float,
    what: str = "text",
) -> float:
    """Return the largest base font size (half-point steps) at which the text fits the box.

    The box is the text area of a shape (its size less the insets). Lines are wrapped
    at spaces with measured word widths; line height is :data:`LINE_HEIGHT` times the
    size; paragraphs after the first get :data:`PARAGRAPH_SPACE` times their size
    before them.

    Raises
    ------
    TextOverflowError
        When the text does not fit even at ``min_pt``; the message names ``what``.

    Examples
    --------
    >>> fit_font_size([Paragraph("Share of households without fixed broadband")],
    ...               12.0, 1.0, max_pt=40, min_pt=14)  # one line
    37.5
    >>> fit_font_size([Paragraph("Share of households without fixed broadband")],
    ...               4.0, 1.0, max_pt=40, min_pt=14)  # two lines
    23.0
    >>> fit_font_size([Paragraph("word " * 200)], 2.0, 0.5, max_pt=20, min_pt=10)
    Traceback (most recent call last):
    ...
    coverage_gap.deck.TextOverflowError: text does not fit its box ...
    """
    width_pt, height_pt = width_in * 72, height_in * 72
    size = math.floor(max_pt * 2) / 2
    while size >= min_pt:
        if text_height_pt(paragraphs, size, width_pt) <= height_pt:
            return float(size)
        size -= 0.5
    first = paragraphs[0].text if paragraphs else ""
    raise TextOverflowError(
        f"{what} does not fit its box ({width_in:.2f} × {height_in:.2f} in) even at "
        f"{min_pt:g} pt: {first[:80]!r}. Use a template whose layout has a larger "
        "placeholder, or a wider slide"
    )


# --- templates and layouts --------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in EMU."""

    left: int
    top: int
    width: int
    height: int

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @classmethod
    def of(cls, shape: Any) -> Box:
        return cls(int(shape.left), int(shape.top), int(shape.width), int(shape.height))


@dataclass
class _Layouts:
    title: SlideLayout
    text: SlideLayout
    picture: SlideLayout
    content: Box
    title_size: float
    body_size: float


def _kinds(layout: Any) -> dict[str, list[Any]]:
    """Sort a layout's placeholders by role: title, subtitle, body, other content."""
    from pptx.enum.shapes import PP_PLACEHOLDER as P

    roles: dict[str, list[Any]] = {
        "title": [],
        "center": [],
        "subtitle": [],
        "body": [],
        "other": [],
    }
    for ph in layout.placeholders:
        kind = ph.placeholder_format.type
        vertical = any(
            v not in ("horz", "") for v in ph._element.xpath("./p:txBody/a:bodyPr/@vert")
        )
        if kind in (P.DATE, P.FOOTER, P.SLIDE_NUMBER, P.HEADER):
            continue
        if kind == P.TITLE and not vertical:
            roles["title"].append(ph)
        elif kind == P.CENTER_TITLE:
            roles["center"].append(ph)
        elif kind == P.SUBTITLE:
            roles["subtitle"].append(ph)
        elif kind in (P.BODY, P.OBJECT) and not vertical:
            roles["body"].append(ph)
        else:
            roles["other"].append(ph)
    return roles


def _area(ph: Any) -> int:
    return int(ph.width) * int(ph.height)


def _choose_layouts(prs: PresentationType) -> _Layouts:
    """Pick layouts by their placeholder types, not by position in the template."""
    layouts = list(prs.slide_layouts)
    if not layouts:
        raise DeckError("the template has no slide layouts")
    kinds = [(layout, _kinds(layout)) for layout in layouts]

    def best(candidates: list[tuple[Any, int]]) -> Any | None:
        return max(candidates, key=lambda c: c[1])[0] if candidates else None

    titled = [(lay, k) for lay, k in kinds if k["title"] or k["center"]]
    title_layout = best(
        [
            (
                lay,
                4 * bool(k["center"])
                + 2 * bool(k["subtitle"])
                + bool(k["title"])
                - 3 * bool(k["other"]),
            )
            for lay, k in titled
        ]
    )
    text_layout = best(
        [
            (lay, _area(k["body"][0]))
            for lay, k in kinds
            if k["title"] and len(k["body"]) == 1 and not k["other"] and not k["subtitle"]
        ]
    )
    picture_layout = best(
        [
            (lay, 1)
            for lay, k in kinds
            if k["title"] and not k["body"] and not k["other"] and not k["subtitle"]
        ]
    )
    fallback = best([(lay, -len(k["body"]) - len(k["other"])) for lay, k in titled]) or layouts[0]
    text_layout = text_layout or picture_layout or fallback
    picture_layout = picture_layout or text_layout
    title_layout = title_layout or text_layout

    width, height = _slide_size(prs)
    title_ph = (_kinds(picture_layout)["title"] or [None])[0]
    body = _kinds(text_layout)["body"]
    margin_x, margin_y = round(0.04 * width), round(0.04 * height)
    if body:
        content = Box.of(body[0])
    else:
        top = title_ph.top + title_ph.height if title_ph is not None else margin_y
        content = Box(margin_x, int(top) + margin_y // 2, width - 2 * margin_x, 0)
        content = Box(content.left, content.top, content.width, height - margin_y - content.top)
    if title_ph is not None and content.top < int(title_ph.top + title_ph.height):
        top = int(title_ph.top + title_ph.height) + margin_y // 4
        content = Box(content.left, top, content.width, content.bottom - top)
    if content.height <= 0 or content.width <= 0:
        raise DeckError("the template leaves no room for a picture below the title")
    master = prs.slide_master
    return _Layouts(
        title=title_layout,
        text=text_layout,
        picture=picture_layout,
        content=content,
        title_size=_style_size(master, "title", 32.0),
        body_size=_style_size(master, "body", 20.0),
    )


_NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
}


def _style_size(master: Any, kind: str, default: float) -> float:
    sizes = master._element.xpath(f"./p:txStyles/p:{kind}Style/a:lvl1pPr/a:defRPr/@sz")
    return int(sizes[0]) / 100 if sizes else default


def _placeholder_size(ph: Any, layout: Any, fallback: float) -> float:
    """Return the font size a placeholder's first level has in the template."""
    inherited = _layout_placeholder(layout, ph.placeholder_format.idx)
    master = getattr(inherited, "_base_placeholder", None) if inherited is not None else None
    for source in (ph, inherited, master):
        if source is None:
            continue
        sizes = source._element.xpath("./p:txBody/a:lstStyle/a:lvl1pPr/a:defRPr/@sz")
        if sizes:
            return int(sizes[0]) / 100
    return fallback


def _layout_placeholder(layout: Any, idx: int) -> Any:
    for ph in layout.placeholders:
        if ph.placeholder_format.idx == idx:
            return ph
    return None


def _slide_size(prs: PresentationType) -> tuple[int, int]:
    """Return the slide's width and height in EMU (a presentation always has both)."""
    width, height = prs.slide_width, prs.slide_height
    assert width is not None and height is not None  # None only in a broken presentation.xml
    return int(width), int(height)


def _widescreen(prs: PresentationType) -> None:
    """Turn python-pptx's 4:3 default into a plain 16:9 template with room for figures."""
    from lxml import etree
    from pptx.enum.shapes import PP_PLACEHOLDER as P
    from pptx.util import Emu, Inches

    factor = 12192000 / int(prs.slide_width)
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)
    for part in (prs.slide_master, *prs.slide_layouts):
        for off in part._element.xpath(".//a:xfrm/a:off"):
            off.set("x", str(round(int(off.get("x")) * factor)))
        for ext in part._element.xpath(".//a:xfrm/a:ext"):
            ext.set("cx", str(round(int(ext.get("cx")) * factor)))
    master = prs.slide_master
    boxes = {"title": (0.45, 0.22, 12.43, 0.95), "body": (0.45, 1.25, 12.43, 6.0)}
    for ph in master.placeholders:
        kind = str(ph.placeholder_format.type).split(" ")[0].lower()
        if kind in boxes:
            ph.left, ph.top, ph.width, ph.height = (Inches(v) for v in boxes[kind])
    styles = master._element.xpath("./p:txStyles")[0]
    title = styles.xpath("./p:titleStyle/a:lvl1pPr", namespaces=_NS)[0]
    title.set("algn", "l")
    title.xpath("./a:defRPr", namespaces=_NS)[0].set("sz", "2800")
    title.xpath("./a:defRPr", namespaces=_NS)[0].set("b", "1")
    body = styles.xpath("./p:bodyStyle/a:lvl1pPr/a:defRPr", namespaces=_NS)[0]
    body.set("sz", "2000")
    # the title slide: a large title above a grey subtitle, both left-aligned
    for layout in prs.slide_layouts:
        # python-pptx's stubs declare LayoutPlaceholders.__iter__ without self
        for ph in layout.placeholders:  # type: ignore[misc]
            ph_type = ph.placeholder_format.type
            if ph_type == P.CENTER_TITLE:
                ph.left, ph.top, ph.width, ph.height = (Inches(v) for v in (0.9, 1.6, 11.5, 2.2))
                title_body = ph._element.txBody
                assert title_body is not None  # a title placeholder always holds a text body
                title_body.bodyPr.set("anchor", "b")
                style = ph._element.xpath("./p:txBody/a:lstStyle")[0]
                level = etree.SubElement(style, f"{{{_NS['a']}}}lvl1pPr", algn="l")
                etree.SubElement(level, f"{{{_NS['a']}}}defRPr", sz="4000", b="1")
            elif ph_type == P.SUBTITLE:
                ph.left, ph.top, ph.width, ph.height = (Inches(v) for v in (0.9, 4.0, 11.5, 2.6))
                for level in ph._element.xpath("./p:txBody/a:lstStyle/*"):
                    level.set("algn", "l")


def load_template(template: str | Path | None) -> PresentationType:
    """Open a template (a ``.pptx``; its slides are dropped) or build the plain 16:9 default.

    Raises
    ------
    TemplateError
        The file is missing or not a PowerPoint presentation.

    Examples
    --------
    >>> prs = load_template(None)
    >>> round(prs.slide_width / EMU_PER_INCH, 3), len(prs.slides)
    (13.333, 0)
    """
    from pptx import Presentation

    if template is None:
        prs = Presentation()
        _widescreen(prs)
        return prs
    path = Path(template)
    if not path.is_file():
        raise TemplateError(f"template not found: {path} (give a .pptx file)")
    try:
        prs = Presentation(str(path))
    except Exception as exc:  # python-pptx raises zip, KeyError, XML errors alike
        raise TemplateError(
            f"{path} is not a PowerPoint presentation python-pptx can open ({exc}); save the "
            "template as .pptx (not .potx or .ppt)"
        ) from None
    id_list = prs.slides._sldIdLst
    for slide_id in list(id_list):  # the template's own example slides
        prs.part.drop_rel(slide_id.rId)
        id_list.remove(slide_id)
    return prs


# --- writing slides ---------------------------------------------------------------------


class _Deck:
    def __init__(self, prs: PresentationType, lang: str, *, dpi: int = 200) -> None:
        self.prs = prs
        self.lang = lang
        self.dpi = dpi
        self.layouts = _choose_layouts(prs)

    # text ------------------------------------------------------------------------------
    def _fill(
        self,
        shape: Any,
        paragraphs: Sequence[Paragraph],
        *,
        max_pt: float,
        min_pt: float,
        what: str,
    ) -> float:
        from pptx.enum.lang import MSO_LANGUAGE_ID
        from pptx.enum.text import MSO_AUTO_SIZE
        from pptx.util import Pt

        frame = shape.text_frame
        width = (int(shape.width) - int(frame.margin_left) - int(frame.margin_right)) / EMU_PER_INCH
        height = (
            int(shape.height) - int(frame.margin_top) - int(frame.margin_bottom)
        ) / EMU_PER_INCH
        size = fit_font_size(paragraphs, width, height, max_pt=max_pt, min_pt=min_pt, what=what)
        frame.clear()
        frame.word_wrap = True
        frame.auto_size = MSO_AUTO_SIZE.NONE
        language = MSO_LANGUAGE_ID.DANISH if self.lang == "da" else MSO_LANGUAGE_ID.ENGLISH_UK
        for i, para in enumerate(paragraphs):
            p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            run_size = _run_size(size, para.scale)
            _plain_paragraph(p)
            p.space_before = Pt(0 if i == 0 else round(PARAGRAPH_SPACE * run_size))
            pieces = [(f"{para.label}: ", True)] if para.label else []
            for text, bold in [*pieces, (para.text, para.bold)]:
                run = p.add_run()
                run.text = text
                run.font.size = Pt(run_size)
                run.font.language_id = language
                if bold:
                    run.font.bold = True
        return size

    def title(self, slide: Slide, text: str) -> None:
        shape = slide.shapes.title
        if shape is None:
            shape = self._textbox(slide, self._title_box())
        layout = slide.slide_layout
        max_pt = _placeholder_size(shape, layout, self.layouts.title_size)
        self._fill(
            shape,
            [Paragraph(text)],
            max_pt=max_pt,
            min_pt=min(MIN_TITLE_PT, max_pt),
            what=f"the title of slide {self._number(slide)}",
        )

    def _title_box(self) -> Box:
        _, height = _slide_size(self.prs)
        content = self.layouts.content
        top = round(0.03 * height)
        return Box(content.left, top, content.width, max(content.top - top, round(0.1 * height)))

    def _textbox(self, slide: Slide, box: Box) -> Any:
        from pptx.util import Emu

        return slide.shapes.add_textbox(
            Emu(box.left), Emu(box.top), Emu(box.width), Emu(box.height)
        )

    def _number(self, slide: Slide) -> int:
        return list(self.prs.slides).index(slide) + 1

    # slides ----------------------------------------------------------------------------
    def title_slide(self, title: str, lines: Sequence[str], notes: str) -> Slide:
        slide = self.prs.slides.add_slide(self.layouts.title)
        self.title(slide, title)
        kinds = _kinds(slide)
        body = (kinds["subtitle"] or kinds["body"] or [None])[0]
        if body is None:
            content = self.layouts.content
            body = self._textbox(
                slide,
                Box(
                    content.left,
                    content.top + content.height // 2,
                    content.width,
                    content.height // 2,
                ),
            )
        self._fill(
            body,
            [Paragraph(line) for line in lines],
            max_pt=_placeholder_size(body, slide.slide_layout, self.layouts.body_size),
            min_pt=MIN_BODY_PT,
            what="the subtitle of the title slide",
        )
        _drop_empty_placeholders(slide)
        _notes(slide, notes)
        return slide

    def text_slide(
        self,
        title: str,
        paragraphs: Sequence[Paragraph],
        notes: str,
        *,
        max_pt: float | None = None,
    ) -> Slide:
        slide = self.prs.slides.add_slide(self.layouts.text)
        self.title(slide, title)
        kinds = _kinds(slide)
        body = (kinds["body"] or [None])[0]
        if body is None:
            body = self._textbox(slide, self.layouts.content)
        base = _placeholder_size(body, slide.slide_layout, self.layouts.body_size)
        self._fill(
            body,
            paragraphs,
            max_pt=base if max_pt is None else min(base, max_pt),
            min_pt=MIN_BODY_PT,
            what=f"the text of slide {self._number(slide)} ({title})",
        )
        _drop_empty_placeholders(slide)
        _notes(slide, notes)
        return slide

    def figure_size(self) -> tuple[float, float]:
        """Return the figure size (inches) for the picture area.

        Its shape, never smaller than the report's 16:9 slide in either direction (the
        charts' layout is made and tested for that); scaled into the area on the slide.
        """
        from .plot import SLIDE

        box = self.layouts.content
        w, h = box.width / EMU_PER_INCH, box.height / EMU_PER_INCH
        k = max(SLIDE[0] / w, SLIDE[1] / h)
        return (round(w * k, 3), round(h * k, 3))

    def picture_slide(self, fig: Figure, notes: str, *, title: str | None = None) -> Slide:
        from .io.writers import figure_bytes
        from .plot import slide_title

        slide = self.prs.slides.add_slide(self.layouts.picture)
        heading = title or slide_title(fig) or ""
        self.title(slide, heading)
        box = self.layouts.content
        for ph in _kinds(slide)["body"] + _kinds(slide)["other"]:
            ph._element.getparent().remove(ph._element)  # the picture takes the body's place
        fw, fh = (float(v) for v in fig.get_size_inches())
        scale = min(box.width / fw, box.height / fh)
        width, height = round(fw * scale), round(fh * scale)
        left = box.left + (box.width - width) // 2
        top = box.top + (box.height - height) // 2
        picture = slide.shapes.add_picture(
            io.BytesIO(figure_bytes(fig, "png", dpi=self.dpi)), left, top, width, height
        )
        footer = next((t.get_text() for t in fig.texts if t.get_gid() == "coverage_gap-footer"), "")
        picture._element.nvPicPr.cNvPr.set("descr", f"{heading}. {footer}".strip())
        picture.name = "Figure"
        _drop_empty_placeholders(slide)
        _notes(slide, notes)
        return slide


def _plain_paragraph(paragraph: Any) -> None:
    """No bullet and no hanging indent: the text uses the whole width that was measured."""
    from pptx.oxml import parse_xml

    ppr = paragraph._p.get_or_add_pPr()
    ppr.set("marL", "0")
    ppr.set("indent", "0")
    for old in ppr.xpath("./a:buNone|./a:buChar|./a:buAutoNum|./a:buBlip"):
        ppr.remove(old)
    # in the schema's order (PowerPoint repairs a file whose elements are out of order)
    ppr.insert_element_before(
        parse_xml(f'<a:buNone xmlns:a="{_NS["a"]}"/>'), "a:tabLst", "a:defRPr", "a:extLst"
    )


def _drop_empty_placeholders(slide: Slide) -> None:
    for ph in list(slide.placeholders):
        frame = ph.text_frame if ph.has_text_frame else None
        if frame is not None and not frame.text.strip():
            ph._element.getparent().remove(ph._element)


def _notes(slide: Slide, text: str) -> None:
    frame = slide.notes_slide.notes_text_frame
    if frame is None:
        raise TemplateError(
            "the template's notes master has no body placeholder for the slide notes "
            "(which carry each figure's definition and source): add one in PowerPoint's "
            "notes master view"
        )
    frame.text = text


# --- checking ---------------------------------------------------------------------------


def text_overflows(prs: PresentationType) -> list[str]:
    """Every text frame of the deck whose estimated text extent exceeds its box.

    The estimate (:func:`text_height_pt`) uses the run's font size (or the template's
    where the run has none), the shape's size less its insets, wrapping at spaces.

    Examples
    --------
    >>> from pptx.util import Inches, Pt
    >>> prs = load_template(None)
    >>> slide = prs.slides.add_slide(prs.slide_layouts[6])
    >>> box = slide.shapes.add_textbox(0, 0, Inches(2), Inches(0.5))
    >>> box.text_frame.word_wrap = True
    >>> box.text_frame.text = "far too much text for so small a box " * 3
    >>> box.text_frame.paragraphs[0].runs[0].font.size = Pt(24)
    >>> text_overflows(prs)
    ["slide 1, 'TextBox 1': 'far too much ... needs 5.20 in, has 0.40 in"]
    """
    problems = []
    body_default = _style_size(prs.slide_master, "body", 18.0)
    for number, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            if not shape.has_text_frame or not shape.text_frame.text.strip():
                continue
            frame = shape.text_frame
            width = int(shape.width) - int(frame.margin_left) - int(frame.margin_right)
            height = int(shape.height) - int(frame.margin_top) - int(frame.margin_bottom)
            paragraphs, sizes = [], []
            for p in frame.paragraphs:
                runs = list(p.runs)
                size = next((r.font.size.pt for r in runs if r.font.size is not None), None)
                sizes.append(size or body_default)
                paragraphs.append(tuple((r.text, bool(r.font.bold)) for r in runs))
            base = sizes[0]
            scaled = [
                _Runs(runs, scale=size / base) for runs, size in zip(paragraphs, sizes, strict=True)
            ]
            need = text_height_pt(scaled, base, width / EMU_PER_INCH * 72) / 72
            has = height / EMU_PER_INCH
            if need > has + 1e-6:
                problems.append(
                    f"slide {number}, {shape.name!r}: {frame.text[:60]!r} needs {need:.2f} in, "
                    f"has {has:.2f} in"
                )
    return problems


# --- the story --------------------------------------------------------------------------


def _pct(share: float, lang: str) -> str:
    from .plot import format_percent

    return format_percent(share, lang)


def _n(value: float, lang: str) -> str:
    from .plot import format_number

    return format_number(float(value), lang)


def _unit(results: Results, lang: str, *, one: bool = False) -> str:
    from .plot import UNITS

    return UNITS[results.provenance.denominator][lang == "da"][1 if one else 0]


def _interval(row: pd.Series, lang: str) -> str:
    return _say(
        "interval", lang, low=_pct(row["share_ci_low"], lang), high=_pct(row["share_ci_high"], lang)
    )


def headline_sentence(results: Results, *, lang: str = "en") -> str:
    """Say the regional figure as one sentence: share, denominator, area, interval, definition.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> text = headline_sentence(make_demo_results(scale=0.01), lang="da")
    >>> print(text.replace("\N{NO-BREAK SPACE}", " "))  # "95 %" is kept on one line
    ... # doctest: +NORMALIZE_WHITESPACE
    14,2 % af husstandene i Region Sjælland (95 %-interval 13,2 %–15,4 %) har ikke fast
    bredbånd ≥ 100/30 Mbit/s.
    """
    from .plot.style import _fixed_threshold, _mobile_threshold

    region = results.municipalities.loc[S.REGION_CODE]
    area = str(region[S.MUNICIPALITY_NAME])
    if not region["households"] > 0:
        return _say("no_households", lang, unit=_unit(results, lang), area=area)
    standard = results.provenance.standard
    fixed, mobile = _fixed_threshold(standard, lang), _mobile_threshold(standard, lang)
    verb = _say(standard.underserved, lang, fixed=fixed, mobile=mobile)
    if standard.name and standard.name not in verb:
        verb += f" ({standard.name})"
    return _say(
        "headline",
        lang,
        share=_pct(region["underserved_share"], lang),
        unit_def=DEFINITE[results.provenance.denominator][lang == "da"],
        area=area,
        interval=_interval(region, lang),
        verb=verb,
    )


def municipality_ranks(table: pd.DataFrame) -> pd.Series:
    """Rank the municipalities with data by their under-served share.

    1 is the largest share; equal shares share the smaller rank; ``<NA>`` marks a
    municipality without data.

    Examples
    --------
    >>> t = pd.DataFrame({"households": [10, 10, 0, 10, 5],
    ...                   "underserved_share": [0.1, 0.3, np.nan, 0.1, 0.5]},
    ...                  index=["a", "b", "c", "d", "region"])
    >>> municipality_ranks(t).tolist()
    [2, 1, <NA>, 2]
    """
    rows = table[table.index != S.REGION_CODE]
    shares = rows["underserved_share"].where(rows["households"] > 0)
    return shares.rank(ascending=False, method="min").astype("Int64")


class _Story:
    """The deck's texts and notes for one run and language."""

    def __init__(
        self,
        results: Results,
        lang: str,
        *,
        command: str,
        claim: float | None,
    ) -> None:
        from .plot import footer_text

        self.results = results
        self.lang = lang
        self.command = command
        self.claim = claim
        self.table = results.municipalities
        self.region = self.table.loc[S.REGION_CODE]
        self.prov = results.provenance
        self.unit = _unit(results, lang)
        self.area = str(self.region[S.MUNICIPALITY_NAME])
        self.rows = self.table[self.table.index != S.REGION_CODE]
        self.with_data = int((self.rows["households"] > 0).sum())
        self.offers = offer_match_lines(results, lang)
        self.definition = [
            _say("notes_definition", lang, describe=_minus(self.prov.standard.describe(lang))),
            _say("notes_footer", lang, footer=self.prov.footer(lang)),
            _say("notes_figure_footer", lang, footer=footer_text(self.prov, lang)),
        ]

    def notes(self, numbers: Iterable[str], *, figure: str | None = None) -> str:
        lines = [*self.definition, "", _say("notes_numbers", self.lang), *numbers, ""]
        lines.append(_say("notes_regenerate", self.lang, command=self.command))
        if figure:
            lines.append(_say("notes_figure", self.lang, call=figure))
        return "\n".join(lines)

    # numbers ---------------------------------------------------------------------------
    def share_line(self, code: str) -> str:
        from .plot import SMALL_COUNT

        row = self.table.loc[code]
        name = str(row[S.MUNICIPALITY_NAME])
        if not row["households"] > 0:
            return _say("notes_no_data", self.lang, name=name, unit=self.unit)
        text = _say(
            "notes_share",
            self.lang,
            name=name,
            share=_pct(row["underserved_share"], self.lang),
            interval=_interval(row, self.lang),
            count=_n(row["underserved_households"], self.lang),
            total=_n(row["households"], self.lang),
            unit=self.unit,
        )
        if code != S.REGION_CODE and row["households"] < SMALL_COUNT:
            text += "; " + _say("notes_few", self.lang, n=SMALL_COUNT, unit=self.unit)
        return text

    def change_line(self, table: pd.DataFrame, code: str) -> str:
        """Say the change of one municipality (or the region) between the two vintages."""
        from .plot.claims import _signed

        row, lang = table.loc[code], self.lang
        return _say(
            "notes_change",
            lang,
            name=str(row[S.MUNICIPALITY_NAME]),
            old=row["old_data_year"],
            new=row["new_data_year"],
            net=_signed(float(row["net_change_households"]), lang),
            unit=self.unit,
            bs=_n(row["became_served_households"], lang),
            bu=_n(row["became_underserved_households"], lang),
            a=_n(row["added_underserved_households"], lang),
            r=_n(row["removed_underserved_households"], lang),
        )

    def ranked_lines(self) -> list[str]:
        from .plot import ranking_order

        order = ranking_order(self.table)[::-1]  # top bar first
        return [self.share_line(code) for code in order] + [self.share_line(S.REGION_CODE)]

    def region_lines(self) -> list[str]:
        lines = [self.share_line(S.REGION_CODE)]
        with_data, total = self.with_data, len(self.rows)
        if with_data < total:
            lines.append(_say("notes_partial", self.lang, n=with_data, k=total, unit=self.unit))
        lines += [_say("notes_offers", self.lang, text=line) for line in self.offers]
        decides = self.region["missing_upload_households"]
        if pd.notna(decides) and decides > 0:
            lines.append(
                _say("notes_missing_upload", self.lang, n=_n(decides, self.lang), unit=self.unit)
            )
        return lines

    def gap_items(self, code: str) -> list[tuple[str, str]]:
        """Return the gaps a fact sheet shows, (label, column), for the services assessed."""
        from .plot.style import _fixed_threshold, _mobile_threshold, _t

        row, standard, lang = self.table.loc[code], self.prov.standard, self.lang
        items = []
        if pd.notna(row["fixed_unserved_households"]) and standard.fixed_down_mbps is not None:
            fixed = _fixed_threshold(standard, lang)
            items.append((_t("fixed_gap", lang).format(fixed=fixed), "fixed_unserved_households"))
        if pd.notna(row["mobile_unserved_households"]) and standard.has_mobile_threshold:
            mobile = _mobile_threshold(standard, lang)
            items.append(
                (_t("mobile_gap", lang).format(mobile=mobile), "mobile_unserved_households")
            )
        if pd.notna(row["unserved_both_households"]):
            items.append((_t("both", lang), "unserved_both_households"))
        return items

    def gap_lines(self, code: str, *, compare: bool = True) -> list[str]:
        row, lang = self.table.loc[code], self.lang
        lines = []
        for label, column in self.gap_items(code):
            share = _pct(row[column] / row["households"], lang)
            if not compare:
                lines.append(
                    _say(
                        "gap_line",
                        lang,
                        label=label,
                        count=_n(row[column], lang),
                        unit=self.unit,
                        share=share,
                    )
                )
                continue
            region_share = (
                self.region[column] / self.region["households"]
                if self.region["households"] > 0
                else np.nan
            )
            lines.append(
                _say(
                    "notes_gap",
                    lang,
                    label=label,
                    count=_n(row[column], lang),
                    unit=self.unit,
                    share=share,
                    area=self.area,
                    region=_pct(region_share, lang),
                )
            )
        return lines

    def breakdown_lines(self) -> list[str]:
        from .plot import breakdown_parts, ranking_order

        parts = breakdown_parts(self.table, self.prov.standard, self.lang)
        index = {code: i for i, code in enumerate(self.table.index)}
        lines = []
        for code in [*ranking_order(self.table)[::-1], S.REGION_CODE]:
            row = self.table.loc[code]
            if not row["households"] > 0:
                lines.append(self.share_line(code))
                continue
            pieces = [
                f"{label} {_n(counts[index[code]], self.lang)} "
                f"({_pct(counts[index[code]] / row['households'], self.lang)})"
                for label, counts, _ in parts
            ]
            lines.append(
                f"{row[S.MUNICIPALITY_NAME]}: {_pct(row['underserved_share'], self.lang)} = "
                + " + ".join(pieces)
            )
        return lines

    def hotspot_lines(self) -> list[str]:
        from .plot import hotspot_grid

        counts, _ = hotspot_grid(self.results.households)
        return [
            _say(
                "notes_hotspots",
                self.lang,
                count=_n(counts.sum(), self.lang),
                unit=self.unit,
                cells=_n((counts > 0).sum(), self.lang),
                top=_n(counts.max(), self.lang),
            )
        ]

    def demand_lines(self, code: str = S.REGION_CODE) -> list[str]:
        from .plot import scenario_label
        from .plot.charts import _scenario_definition

        demand = self.results.demand
        if demand is None:
            return []
        rows = demand[demand[S.MUNICIPALITY_CODE] == code]
        if rows.empty:
            return []
        lang = self.lang
        first, last = int(rows["year"].min()), int(rows["year"].max())
        lines = [
            _say(
                "notes_demand_assumption",
                lang,
                gb=_n(rows["gb_per_unit_month_base"].iloc[0], lang),
                unit_one=_unit(self.results, lang, one=True),
                year=first,
            )
        ]
        for scenario, group in rows.groupby("scenario", sort=False):
            base = float(group.loc[group["year"] == first, "demand_gb_month"].iloc[0])
            end = group.loc[group["year"] == last].iloc[0]
            lines.append(
                _say(
                    "notes_demand",
                    lang,
                    scenario=scenario_label(str(scenario), lang),
                    definition=_scenario_definition(
                        str(group["scenario_definition"].iloc[0]), lang
                    ),
                    base=_n(base, lang),
                    base_year=first,
                    end=_n(end["demand_gb_month"], lang),
                    horizon=last,
                    factor=(
                        _format_factor(float(end["demand_gb_month"]) / base, lang)
                        if base > 0
                        else "–"
                    ),
                    busy=_n(end["busy_hour_mbps"], lang),
                )
            )
        return lines

    def growth_lines(self) -> list[str]:
        from .danish.growth import danish_mobile_growth
        from .plot import scenario_label
        from .plot.charts import _scenario_definition

        lang = self.lang
        lines = []
        for row in danish_mobile_growth().itertuples(index=False):
            low, high = float(row.growth_low), float(row.growth_high)
            growth = "+" + (
                _share_text(low, lang)
                if low == high
                else f"{_share_text(low, lang, sign=False)}–{_share_text(high, lang)}"
            )
            source = str(row.source)
            if lang == "da":
                source = _GROWTH_SOURCES_DA.get(source, source)
            lines.append(
                _say(
                    "notes_growth",
                    lang,
                    period=_period(row.period_start, row.period_end, str(row.note), lang),
                    growth=growth,
                    source=source,
                )
            )
        demand = self.results.config.demand
        for scenario in demand.scenarios if demand is not None else ():
            lines.append(
                _say(
                    "notes_scenario",
                    lang,
                    name=scenario_label(scenario.name, lang),
                    definition=_scenario_definition(scenario.describe(), lang),
                )
            )
        return lines


def _panel_lines(fig: Figure) -> list[str]:
    """Return the texts of a figure but its footer (a map's counts and notes), for the notes."""
    from .plot import FOOTER_TAG

    return [
        " ".join(t.get_text().split())
        for t in fig.texts
        if t.get_gid() != FOOTER_TAG and t.get_text().strip()
    ]


def _share_text(share: float, lang: str, *, sign: bool = True) -> str:
    """Write a share in percent with as few decimals as it needs (85 %, 27,5 %)."""
    from .plot import format_number

    value = 100 * share
    decimals = 0 if abs(value - round(value)) < 1e-9 else 1
    number = format_number(value, lang, decimals)
    if not sign:
        return number
    return f"{number} %" if lang == "da" else f"{number}%"


def _period(start: float, end: float, note: str, lang: str) -> str:
    """Name a period of the growth series: half years as the series names them."""
    match = re.fullmatch(r"(H[12]) (\d{4}) to (H[12]) (\d{4})", note.strip())
    if match is None:
        return f"{math.floor(start)}–{math.floor(end)}"
    h1, y1, h2, y2 = match.groups()
    if lang == "da":
        return f"{h1[1]}. halvår {y1} til {h2[1]}. halvår {y2}"
    return f"{h1} {y1} to {h2} {y2}"


def _format_factor(value: float, lang: str) -> str:
    from .plot import format_number

    return format_number(value, lang, 1)


# --- the deck ---------------------------------------------------------------------------


def _input_lines(results: Results, lang: str, limit: int = 6) -> list[str]:
    from .io._common import sha256

    files = []
    seen = set()
    for spec in results.config.inputs:
        path = Path(spec.path)
        if path in seen:
            continue
        seen.add(path)
        digest = sha256(path) if path.is_file() else "–"
        files.append(f"{path.name} ({digest[:12]})")
    if len(files) > limit:
        files = [*files[:limit], _say("more_inputs", lang, n=len(files) - limit)]
    return files


def _reconciliation_text(results: Results, lang: str) -> str:
    rec = results.reconciliation

    def a(status: str) -> str:
        return _n(rec.loc[status, "addresses"], lang) if status in rec.index else "0"

    assigned = sum(int(rec.loc[s, "addresses"]) for s in S.COUNTED if s in rec.index)
    return _say(
        "rec_line",
        lang,
        read=a("total"),
        read_h=_n(rec.loc["total", "households"], lang),
        unit=_unit(results, lang),
        assigned=_n(assigned, lang),
        inside=a("inside"),
        nearest=a("nearest"),
        outside=a("outside_selection"),
        unassigned=a("unassigned"),
        invalid=a("invalid"),
    )


MATCH_NOTICE = 0.95
"""Below this share of counted addresses with an offer row, the deck says how many matched."""


def offer_match_lines(results: Results, lang: str) -> list[str]:
    """Say when the offers cover the counted addresses only in part.

    A counted address without an offer row counts as without fixed service, so a
    partial offer extract makes the region look worse than it is: the headline slide
    says how many addresses found an offer (when fewer than :data:`MATCH_NOTICE` did)
    and which municipalities with data found none at all.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> offer_match_lines(make_demo_results(scale=0.01), "da")  # every address matched
    []
    """
    fixed = [m for what, m in results.offer_matches if what == "fixed"]
    if not fixed:
        return []
    lines = []

    def counts(m: Any) -> tuple[int, int]:
        if m.counted:
            return int(m.counted_matched or 0), int(m.counted)
        return int(m.addresses_matched), int(m.addresses)

    # several fixed files (per operator): the best-matching one says the least alarm
    matched, counted = max((counts(m) for m in fixed), key=lambda c: c[0] / max(c[1], 1))
    if counted and matched / counted < MATCH_NOTICE:
        lines.append(
            _say(
                "offers_found",
                lang,
                share=_pct(matched / counted, lang),
                matched=_n(matched, lang),
                counted=_n(counted, lang),
            )
        )
    hh = results.households
    if S.FIXED_DOWN in hh and S.ASSIGNMENT in hh:
        counted_rows = hh[hh[S.ASSIGNMENT].isin(S.COUNTED)]
        found = counted_rows[S.FIXED_DOWN].notna().groupby(counted_rows[S.MUNICIPALITY_CODE]).any()
        table = results.municipalities
        missing = [
            str(table.loc[code, S.MUNICIPALITY_NAME])
            for code, any_offer in found.items()
            if not any_offer and code in table.index and table.loc[code, "households"] > 0
        ]
        if missing:
            names = ", ".join(missing[:6]) + (", …" if len(missing) > 6 else "")
            lines.append(_say("offers_missing", lang, n=len(missing), names=names))
    return lines


def _default_command(path: str | Path | None, lang: str, template: str | Path | None) -> str:
    out = Path(path).name if path is not None else "DECK.pptx"
    command = f"coverage-gap deck CONFIG.toml --out {out} --lang {lang}"
    if template is not None:
        command += f" --template {Path(template).name}"
    return command


def deck_bytes(
    results: Results,
    *,
    lang: str | None = None,
    template: str | Path | None = None,
    claim: float | None = None,
    command: str | None = None,
    manifest: str | Path | None = None,
    in_output_set: bool = False,
    dpi: int = 200,
    progress: Callable[[str], None] | None = None,
    claim_check: ClaimCheck | None = None,
    change: VintageChange | None = None,
) -> bytes:
    """Return the deck of a run as ``.pptx`` bytes (see :func:`write_deck`).

    ``in_output_set`` says that the deck is written into a run's output folder, whose
    ``manifest.json`` lists its checksum (the last slide says so). ``progress`` is
    called with a label after each figure slide.
    """
    from .io.writers import fixed_zip
    from .plot import SMALL_COUNT, footer_text, standard_phrase
    from .report import fact_sheet, library_versions, report_charts

    settings = getattr(results.config, "report", None)
    lang = lang or getattr(settings, "lang", "en")
    lang = "da" if lang == "da" else "en"
    if claim is None:
        claim = getattr(settings, "claim_share", None)
    command = command or _default_command(None, lang, template)
    prs = load_template(template)
    deck = _Deck(prs, lang, dpi=dpi)
    story = _Story(results, lang, command=command, claim=claim)
    table, prov, region = results.municipalities, results.provenance, story.region
    unit, area = story.unit, story.area
    year = prov.data_year

    # 1. title --------------------------------------------------------------------------
    title = (
        _say("deck_title", lang, unit=unit, area=area)
        if year is None
        else _say("deck_title_year", lang, unit=unit, area=area, year=year)
    )
    phrase = standard_phrase(prov.standard, lang)
    lines = [
        _say("standard_line", lang, name=prov.standard.name, phrase=phrase),
        _say("data_line", lang, year="–" if year is None else year, unit=unit),
        _say("source_line", lang, source=prov.source),
    ]
    if story.with_data < len(story.rows):
        lines.append(_say("partial", lang, n=story.with_data, k=len(story.rows), unit=unit))
    lines += story.offers
    deck.title_slide(title, lines, story.notes([_say("notes_title", lang), *story.region_lines()]))

    # 2. the headline -------------------------------------------------------------------
    paragraphs = [Paragraph(headline_sentence(results, lang=lang), scale=1.6, bold=True)]
    if story.with_data < len(story.rows):
        partial = _say("partial", lang, n=story.with_data, k=len(story.rows), unit=unit)
        paragraphs.append(Paragraph(partial, bold=True))
    paragraphs += [Paragraph(line, bold=True) for line in story.offers]
    if region["households"] > 0:
        counts = _say(
            "counts",
            lang,
            count=_n(region["underserved_households"], lang),
            total=_n(region["households"], lang),
            unit=unit,
        )
        paragraphs.append(Paragraph(counts))
        paragraphs += [Paragraph(line) for line in story.gap_lines(S.REGION_CODE, compare=False)]
        if claim is not None:
            inside = region["share_ci_low"] <= claim <= region["share_ci_high"]
            key = "claim_in" if inside else "claim_out"
            paragraphs.append(Paragraph(_say(key, lang, claim=_pct(claim, lang))))
    paragraphs.append(Paragraph(footer_text(prov, lang), scale=0.7))
    deck.text_slide(
        _say("headline_title", lang, area=area),
        paragraphs,
        story.notes(story.region_lines()),
        max_pt=28,
    )

    # 3. the report's charts ------------------------------------------------------------
    size = deck.figure_size()
    charts = report_charts(results, lang=lang, claim=claim, size=size, title=False)
    numbers = {
        "map_share": story.ranked_lines,
        "ranking": story.ranked_lines,
        "hotspots": story.hotspot_lines,
        "breakdown": story.breakdown_lines,
        "demand_region": story.demand_lines,
        "growth_rates": story.growth_lines,
    }
    from . import plot

    def slide_axes() -> Any:
        return plot.new_axes(pyplot=False, size=size, title=False)

    extra: dict[str, tuple[Callable[[], Figure], Callable[[], list[str]], str]] = {}
    if claim_check is not None:
        check = claim_check
        extra["claim_curve"] = (
            lambda: plot.root_figure(plot.plot_claim_curve(check, ax=slide_axes(), lang=lang)),
            lambda: [_say("notes_claim", lang, verdict=check.verdict(lang)), *check.notes],
            f"coverage_gap.plot.plot_claim_curve(check, lang={lang!r})",
        )
    if change is not None:
        flows = change.municipalities
        extra["change_waterfall"] = (
            lambda: plot.root_figure(plot.plot_change_waterfall(flows, ax=slide_axes(), lang=lang)),
            lambda: [story.change_line(flows, S.REGION_CODE)],
            f"coverage_gap.plot.plot_change_waterfall(change.municipalities, lang={lang!r})",
        )
        extra["change_by_municipality"] = (
            lambda: plot.root_figure(
                plot.plot_change_by_municipality(flows, ax=slide_axes(), lang=lang)
            ),
            lambda: [story.change_line(flows, code) for code in [*story.rows.index, S.REGION_CODE]],
            f"coverage_gap.plot.plot_change_by_municipality(change.municipalities, lang={lang!r})",
        )
    where = [n for n in charts if n.startswith("map_") and n != "map_share"]
    order = [
        "map_share",
        "hotspots",
        "ranking",
        "breakdown",
        "claim_curve",
        "change_waterfall",
        "change_by_municipality",
        *where,
        "demand_region",
        "growth_rates",
    ]
    for name in order:
        if name in extra:
            draw, lines_of, call = extra[name]
            fig = draw()
            deck.picture_slide(fig, story.notes(lines_of(), figure=call))
        elif name in charts:
            fig = charts[name]()
            call = f"coverage_gap.report.report_charts(results, lang={lang!r})[{name!r}]()"
            lines_of = numbers.get(name) or functools.partial(_panel_lines, fig)
            deck.picture_slide(fig, story.notes(lines_of(), figure=call))
        else:
            continue
        if progress is not None:
            progress(name)

    # 4. a slide per municipality -------------------------------------------------------
    ranks = municipality_ranks(table)
    for code in story.rows.index:
        row = table.loc[code]
        name = str(row[S.MUNICIPALITY_NAME])
        fig = fact_sheet(
            results,
            code,
            lang=lang,
            size=size,
            title=False,
            change=change.municipalities if change is not None else None,
        )
        if row["households"] > 0:
            key = "rank_title" if story.with_data == len(story.rows) else "rank_title_partial"
            heading = _say(
                key, lang, name=name, code=code, rank=int(ranks[code]), n=story.with_data
            )
            if row["households"] < SMALL_COUNT:
                heading += _say("few_title", lang, unit=unit)
            numbers_m = [
                story.share_line(code),
                _say("notes_rank", lang, rank=int(ranks[code]), n=story.with_data),
                *story.gap_lines(code),
                story.share_line(S.REGION_CODE),
                *story.demand_lines(code),
            ]
            if change is not None and code in change.municipalities.index:
                numbers_m.append(story.change_line(change.municipalities, code))
        else:
            heading = _say("no_data_title", lang, name=name, code=code)
            numbers_m = [
                _say("notes_no_data_sheet", lang, unit=unit, name=name),
                story.share_line(S.REGION_CODE),
            ]
        call = f"coverage_gap.report.fact_sheet(results, {code!r}, lang={lang!r}" + (
            ", change=change.municipalities)" if change is not None else ")"
        )
        deck.picture_slide(fig, story.notes(numbers_m, figure=call), title=heading)
        if progress is not None:
            progress(code)

    # 5. definitions, sources, reconciliation, checksums ----------------------------------
    version = library_versions()["coverage_gap"]
    if manifest is not None:
        from .io._common import sha256

        manifest_line: str | None = _say("manifest_sha", lang, sha=sha256(Path(manifest)))
    elif in_output_set:
        manifest_line = _say("manifest_beside", lang)
    else:
        manifest_line = None
    entries = [
        (_say("definition", lang), plot_definition(prov, lang)),
        (_say("rule", lang), _minus(prov.standard.describe(lang))),
        (_say("denominator", lang), unit),
        (_say("data_year", lang), "–" if year is None else str(year)),
        (_say("source", lang), prov.source),
        ("", _say("interval_note", lang, unit=unit)),
        (_say("reconciliation", lang), _reconciliation_text(results, lang)),
        (_say("inputs", lang), "; ".join(_input_lines(results, lang))),
    ]
    if manifest_line is not None:
        entries.append((_say("manifest", lang), manifest_line))
    entries.append(("", _say("made_with", lang, version=version)))
    paragraphs = [Paragraph(text, label=label) for label, text in entries]
    rec = results.reconciliation
    rec_rows = "; ".join(
        f"{_STATUS[lang].get(str(status), str(status))} {_n(r['addresses'], lang)} / "
        f"{_n(r['households'], lang)}"
        for status, r in rec.iterrows()
    )
    notes_lines = [
        _say("notes_reconciliation", lang, unit=unit, rows=rec_rows),
        _say("notes_inputs", lang, files="; ".join(_input_lines(results, lang, limit=1000))),
    ]
    if manifest_line is not None:
        notes_lines.append(manifest_line)
    deck.text_slide(_say("sources_title", lang), paragraphs, story.notes(notes_lines), max_pt=18)

    # check, then write with fixed metadata --------------------------------------------
    problems = text_overflows(prs)
    if problems:
        raise TextOverflowError("text overflows its box: " + "; ".join(problems[:5]))
    props = prs.core_properties
    props.author = "coverage_gap"
    props.last_modified_by = "coverage_gap"
    props.title = title
    props.subject = prov.standard.describe(lang)
    props.keywords = "coverage_gap"
    props.comments = footer_text(prov, lang)
    props.category = ""
    props.language = "da-DK" if lang == "da" else "en-GB"
    props.revision = 1
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.last_printed = FIXED_TIME
    buffer = io.BytesIO()
    prs.save(buffer)
    return fixed_zip(buffer.getvalue())


def plot_definition(prov: Any, lang: str) -> str:
    """Return the definition as the figures' footers print it (thresholds the rule uses)."""
    from .plot import definition_text

    return definition_text(prov.standard, lang)


def write_deck(
    results: Results,
    path: str | Path,
    *,
    lang: str | None = None,
    template: str | Path | None = None,
    claim: float | None = None,
    command: str | None = None,
    manifest: str | Path | None = None,
    dpi: int = 200,
    claim_check: ClaimCheck | None = None,
    change: VintageChange | None = None,
) -> Path:
    """Write the presentation deck of a run as a ``.pptx`` file (atomically).

    Parameters
    ----------
    results
        A run's results (:func:`coverage_gap.pipeline.run`).
    path
        The ``.pptx`` file to write.
    lang
        ``"da"`` or ``"en"``; the configuration's ``[report] lang`` when ``None``.
    template
        An organisation's ``.pptx`` template: its slide size, layouts (chosen by their
        placeholder types), fonts, colours and logo are used; its own slides are left
        out. A plain 16:9 deck without.
    claim
        A claimed share (0.2 = "one in five"): the headline says whether the interval
        holds it and the ranking draws it; the configuration's ``[report] claim_share``
        when ``None``.
    command
        How to regenerate the deck, written into every slide's notes (the command
        line gives the command it ran).
    manifest
        The ``manifest.json`` of the run folder the deck belongs to: its SHA-256 goes
        on the last slide.
    dpi
        Resolution of the pictures (dots per inch of the drawn figure).
    claim_check
        A claim check (:func:`coverage_gap.claims.check_claim`): a slide with its
        specification curve, the verdict in the notes.
    change
        The change since an older vintage (:func:`coverage_gap.changes.compare_vintages`):
        slides with the region's waterfall and the change per municipality, and each
        municipality's slide states its change (as the report's fact sheets do).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    TextOverflowError
        A text does not fit its placeholder even at the smallest font size.
    TemplateError
        The template is missing or not a presentation.
    DeckError
        The template's layouts leave no room, or the file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from pptx import Presentation
    >>> from coverage_gap.datasets import make_demo_results
    >>> out = write_deck(make_demo_results(scale=0.01), Path(tempfile.mkdtemp()) / "d.pptx",
    ...                  lang="da", dpi=30)
    >>> deck = Presentation(str(out))
    >>> len(deck.slides), deck.slides[1].shapes.title.text
    (29, 'Region Sjælland samlet')
    """
    from .io.writers import atomic_write

    target = Path(path)
    data = deck_bytes(
        results,
        lang=lang,
        template=template,
        claim=claim,
        command=command or _default_command(target, lang or results.config.report.lang, template),
        manifest=manifest,
        dpi=dpi,
        claim_check=claim_check,
        change=change,
    )
    try:
        with atomic_write(target, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise DeckError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def check_deck_target(path: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Check, before anything is computed, that a deck can be written to ``path``.

    Raises
    ------
    DeckError
        ``path`` does not end in ``.pptx``, is a folder, is one of the run's inputs, or
        its folder cannot be created.

    Examples
    --------
    >>> check_deck_target("out/deck.pdf")
    Traceback (most recent call last):
    ...
    coverage_gap.deck.DeckError: --out must name a .pptx file, got out/deck.pdf
    """
    target = Path(path)
    if target.suffix.lower() != ".pptx":
        raise DeckError(f"--out must name a .pptx file, got {target}")
    if target.is_dir():
        raise DeckError(f"--out {target} is a folder; name the .pptx file to write")
    for item in inputs:
        if target.absolute().resolve() == Path(item).absolute().resolve():
            raise DeckError(f"--out {target} is one of the run's inputs; choose another file")
    existing = next((p for p in target.absolute().parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise DeckError(f"cannot create {target}: {existing} is a file, not a folder")
    return target


__all__ = [
    "DeckError",
    "Paragraph",
    "TemplateError",
    "TextOverflowError",
    "check_deck_target",
    "count_lines",
    "deck_bytes",
    "fit_font_size",
    "headline_sentence",
    "load_template",
    "municipality_ranks",
    "text_height_pt",
    "text_overflows",
    "text_width_pt",
    "write_deck",
]
