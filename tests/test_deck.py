"""The presentation deck: opened with python-pptx and checked against the run's tables.

Expected numbers are formatted here by hand from ``results.municipalities`` (not through
the library's formatting), ranks are counted independently, and the template test
builds an organisation's template in code.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Inches, Pt

from coverage_gap import deck as D
from coverage_gap.cli import main
from coverage_gap.config import parse_config
from coverage_gap.datasets import make_demo_results
from coverage_gap.pipeline import run

from .conftest import SHARED
from .test_figure_layout import layout_problems, real_sample_config

DPI = 40  # pictures at low resolution: the tests are about slides, not pixels


def da_pct(share: float) -> str:
    return f"{100 * share:.1f}".replace(".", ",") + " %"


def da_int(value: float) -> str:
    return f"{int(value):,}".replace(",", ".")


def text_of(slide) -> str:
    """The slide's text outside its title."""
    title = slide.shapes.title
    return "\n".join(
        s.text_frame.text
        for s in slide.shapes
        if s.has_text_frame and (title is None or s.shape_id != title.shape_id)
    )


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def notes_of(slide) -> str:
    return slide.notes_slide.notes_text_frame.text


def pictures(slide) -> list:
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


def open_deck(data: bytes):
    return Presentation(io.BytesIO(data))


@pytest.fixture(scope="module")
def demo():
    return make_demo_results(scale=0.01)


@pytest.fixture(scope="module")
def demo_deck(demo):
    command = "coverage-gap demo --out out/demo --lang da"
    data = D.deck_bytes(demo, lang="da", claim=0.2, command=command, dpi=DPI)
    return data, command


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return run(parse_config(real_sample_config(SHARED), tmp_path_factory.mktemp("real")))


@pytest.fixture(scope="module")
def real_deck(real):
    return open_deck(D.deck_bytes(real, lang="da", dpi=DPI))


@pytest.fixture
def world(world_files):
    from coverage_gap.config import load_config

    return run(load_config(world_files))


# --- the story on the demo -------------------------------------------------------------


def test_demo_deck_slides_and_titles(demo, demo_deck):
    deck = open_deck(demo_deck[0])
    table = demo.municipalities
    codes = [c for c in table.index if c != "region"]
    # title, headline, map, hotspots, ranking, breakdown, the three maps of where to act
    # (the demo has [[areas]], [pool] and [siting]), demand, growth, 17, sources
    assert len(deck.slides) == 2 + 9 + len(codes) + 1 == 29
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[0] == "Underforsynede husstande i Region Sjælland, 2026"
    assert titles[1] == "Region Sjælland samlet"
    assert titles[2:11] == [
        "Andel husstande uden fast bredbånd ≥ 100/30 Mbit/s",
        "Hvor husstande uden fast bredbånd ≥ 100/30 Mbit/s ligger",
        "Husstande uden fast bredbånd ≥ 100/30 Mbit/s, pr. kommune",
        "Hvad de underforsynede husstande mangler, pr. kommune",
        "Husstande uden fast bredbånd ≥ 100/30 Mbit/s, pr. celle på 1 km",
        "Bredbåndspuljen: adresser, der kan få støtte efter 2023- og 2024-reglerne",
        "Hvor 10 nye master når flest husstande uden fast bredbånd ≥ 100/30 Mbit/s",
        "Fremskrevet mobil dataefterspørgsel: Region Sjælland",
        "Vækst i mobilt dataforbrug: målt og antaget",
    ]
    assert titles[-1] == "Definitioner, kilder og afstemning"
    # the title slide names area, year, standard and source
    first = text_of(deck.slides[0])
    assert "Niveau 100/30: uden fast bredbånd ≥ 100/30 Mbit/s" in first
    assert "Kilde: synthetic demo data (coverage_gap demo generator)" in first
    # one picture per figure slide, inside the slide, below the title
    for slide in list(deck.slides)[2:-1]:
        (picture,) = pictures(slide)
        assert picture.left >= 0 and picture.left + picture.width <= deck.slide_width
        assert picture.top >= slide.shapes.title.top + slide.shapes.title.height
        assert picture.top + picture.height <= deck.slide_height
        # the alternative text: the title and the figure's footer
        descr = picture._element.nvPicPr.cNvPr.get("descr")
        assert descr.startswith(slide.shapes.title.text) and ("Kilde:" in descr or "Målt:" in descr)
    assert round(deck.slide_width / 914400, 3) == 13.333 and deck.slide_height == 6858000


def test_demo_headline_sentence_and_counts(demo, demo_deck):
    deck = open_deck(demo_deck[0])
    region = demo.municipalities.loc["region"]
    body = plain(text_of(deck.slides[1]))
    sentence = (
        f"{da_pct(region['underserved_share'])} af husstandene i Region Sjælland "
        f"(95 %-interval {da_pct(region['share_ci_low'])}–{da_pct(region['share_ci_high'])}) "
        "har ikke fast bredbånd ≥ 100/30 Mbit/s."
    )
    assert sentence in body
    counts = f"{da_int(region['underserved_households'])} af {da_int(region['households'])}"
    assert f"{counts} husstande er underforsynede." in body
    inside = region["share_ci_low"] <= 0.2 <= region["share_ci_high"]
    assert ("inden for" if inside else "uden for") + " 95 %-intervallet" in body
    assert region["underserved_households"] == 576 and region["households"] == 4044  # demo


def test_one_slide_per_municipality_with_rank_share_and_counts(demo, demo_deck):
    deck = open_deck(demo_deck[0])
    table = demo.municipalities
    rows = table.drop("region")
    slides = list(deck.slides)[11:-1]
    assert len(slides) == len(rows)
    shares = rows["underserved_share"].to_numpy()
    for slide, (code, row) in zip(slides, rows.iterrows(), strict=True):
        rank = 1 + int((shares > row["underserved_share"]).sum())  # ties share a rank
        assert slide.shapes.title.text == f"{row['municipality_name']} ({code}) · nr. {rank} af 17"
        notes = plain(notes_of(slide))
        assert (
            f"{row['municipality_name']}: {da_pct(row['underserved_share'])} (95 %-interval "
            f"{da_pct(row['share_ci_low'])}–{da_pct(row['share_ci_high'])}); "
            f"{da_int(row['underserved_households'])} af {da_int(row['households'])} husstande"
        ) in notes
        fixed = row["fixed_unserved_households"]
        mobile = row["mobile_unserved_households"]
        assert f"Uden fast ≥ 100/30 Mbit/s: {da_int(fixed)} husstande" in notes
        assert f"Uden mobil ≥ −105 dBm: {da_int(mobile)} husstande" in notes
        assert f"Nr. {rank} af 17 kommuner med data" in notes
        assert len(pictures(slide)) == 1
    stevns = slides[list(rows.index).index("0336")]
    assert stevns.shapes.title.text.endswith("nr. 1 af 17")  # the largest share in the demo


def test_notes_on_every_slide(demo, demo_deck):
    data, command = demo_deck
    deck = open_deck(data)
    # the definition with minus signs, as the figures write it ("−105 dBm")
    describe = demo.provenance.standard.describe("da").replace("-1", "−1")
    for number, slide in enumerate(deck.slides, start=1):
        notes = notes_of(slide)
        assert f"Definition: {describe}" in notes, number
        assert f"Herkomst: {demo.provenance.footer('da')}" in notes, number
        assert "Under figurerne: Niveau 100/30: fast ≥ 100/30 Mbit/s; tilbud uden" in notes
        assert f"Genskab: {command}" in notes, number
    ranking = plain(notes_of(deck.slides[4]))
    lines = [line for line in ranking.splitlines() if " af " in line and "%" in line]
    # the numbers behind the ranking, top bar first, then the region
    order = demo.municipalities.drop("region").sort_values("underserved_share", ascending=False)
    assert [line.split(":")[0] for line in lines] == [
        *order["municipality_name"],
        "Region Sjælland",
    ]
    assert "report_charts(results, lang='da')['ranking']" in notes_of(deck.slides[4])
    demand = plain(notes_of(deck.slides[9]))
    for name in ("taskforce: 50 % om året", "tilpasset aftagende vækst (dansk serie)", "central"):
        assert name in demand
    base = demo.demand.query("municipality_code == 'region' and year == 2035")
    end = base.set_index("scenario").loc["taskforce 50 %", "demand_gb_month"]
    assert f"{da_int(round(end))} GB pr. måned i 2035" in demand


def test_last_slide_reconciliation_and_inputs(demo, demo_deck):
    deck = open_deck(demo_deck[0])
    text = plain(text_of(deck.slides[-1]))
    rec = demo.reconciliation
    assigned = rec.loc["inside", "addresses"] + rec.loc["nearest", "addresses"]
    assert f"{da_int(rec.loc['total', 'addresses'])} adresser læst" in text
    assert f"{da_int(assigned)} tildelt en kommune" in text
    assert (
        f"{da_int(rec.loc['outside_selection', 'addresses'])} i kommuner uden for udvalget" in text
    )
    assert f"{da_int(rec.loc['unassigned', 'addresses'])} uden kommune" in text
    assert f"{da_int(rec.loc['invalid', 'addresses'])} ugyldige" in text
    assert "households.parquet (" in text and "Præcis definition: fast ≥ 100/30 Mbit/s" in text
    assert rec.loc["total", "addresses"] == 2639 and rec.loc["invalid", "addresses"] == 3


def test_deck_text_is_checked_and_fits(demo_deck):
    deck = open_deck(demo_deck[0])
    assert D.text_overflows(deck) == []
    # the long chart titles were shrunk from the template's 28 pt where they needed it
    sizes = {
        s.shapes.title.text: s.shapes.title.text_frame.paragraphs[0].runs[0].font.size.pt
        for s in deck.slides
    }
    assert max(sizes.values()) <= 40 and min(sizes.values()) >= D.MIN_TITLE_PT


# --- partial real data ------------------------------------------------------------------


def test_partial_real_run_words_follow_the_denominator(real, real_deck):
    table = real.municipalities
    region = table.loc["region"]
    body = plain(text_of(real_deck.slides[1]))
    assert body.startswith(f"{da_pct(region['underserved_share'])} af boligerne i Region Sjælland")
    assert "Kun 4 af 17 kommuner har boliger i data" in body
    assert "husstand" not in body.lower()
    english = plain(D.headline_sentence(real, lang="en"))
    share = f"{100 * region['underserved_share']:.1f}%"
    assert english.startswith(f"{share} of the dwellings in Region Sjælland (95 % interval")
    assert english.endswith("do not have fixed broadband ≥ 100/30 Mbit/s.")
    titles = {s.shapes.title.text for s in real_deck.slides}
    assert "Køge (0259) · ingen data" in titles
    assert "Greve (0253) · nr. 1 af 4 med data" in titles  # 3 of 276 dwellings, the largest
    assert "Solrød (0269) · nr. 3 af 4 med data (få boliger)" in titles  # 0 of 2, tied
    koege = next(s for s in real_deck.slides if s.shapes.title.text.startswith("Køge"))
    assert "Data indeholder ingen boliger i Køge" in notes_of(koege)
    assert len(pictures(koege)) == 1
    for slide in real_deck.slides:  # Danish words only in the deck's own text
        text = text_of(slide).lower()
        for word in ("households", "dwellings", " of ", "share", "rank"):
            assert word not in text, (slide.shapes.title.text, word)
    assert D.text_overflows(real_deck) == []


def test_deck_figures_have_no_overlapping_text(real):
    from coverage_gap.report import fact_sheet, report_charts

    size = D._Deck(D.load_template(None), "da").figure_size()
    assert size[0] >= 13.333 and size[1] >= 7.5
    figures = [draw() for draw in report_charts(real, lang="da", size=size, title=False).values()]
    figures += [fact_sheet(real, c, lang="da", size=size, title=False) for c in ("0253", "0269")]
    for fig in figures:
        problems, _ = layout_problems(fig)
        assert not problems, problems[:3]


# --- determinism, templates, overflow, command line ------------------------------------


def test_world_deck_in_english_and_a_second_run_gives_identical_bytes(world, tmp_path):
    import hashlib

    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"library": "coverage_gap"}\n')
    first = D.deck_bytes(world, lang="en", manifest=manifest, dpi=DPI)
    second = D.deck_bytes(world, lang="en", manifest=manifest, dpi=DPI)
    assert first == second
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    deck = open_deck(first)
    props = deck.core_properties
    assert props.created.year == props.modified.year == props.last_printed.year == 2000
    assert props.revision == 1 and props.author == "coverage_gap"
    assert props.language == "en-GB"

    region = world.municipalities.loc["region"]
    assert region["underserved_households"] == 12 and region["households"] == 21
    assert len(deck.slides) == 2 + 4 + 2 + 1  # no demand: map, hotspots, ranking, breakdown
    body = plain(text_of(deck.slides[1]))
    assert body.startswith("57.1% of the households in Test region (95 % interval 36.5%–75.5%)")
    assert "12 of 21 households under-served." in body
    titles = [s.shapes.title.text for s in deck.slides]
    # Aby: h2, h4, h12 = 10 of 17 households (58.8 %); Bøby: h3, h6 = 2 of 4 (50 %)
    assert titles[6:8] == [
        "Aby (0001) · rank 1 of 2 (few households)",
        "Bøby (0002) · rank 2 of 2 (few households)",
    ]
    text = plain(text_of(deck.slides[-1]))
    # 23 households on 12 addresses; h9 nearest, h10 unassigned, h11 invalid
    assert "12 addresses read (23 households): 10 assigned to a municipality (9 inside, " in text
    assert "1 unassigned, 1 invalid" in text
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert f"manifest.json SHA-256 {digest}" in text


def organisation_template(path: Path, *, tiny_title: bool = False) -> Path:
    """A 4:3 template with its own fonts, colour, a logo on the master, reordered and
    renamed layouts and an example slide."""
    from pptx.dml.color import RGBColor

    prs = Presentation()
    master = prs.slide_master
    theme_part = master.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"
    )
    theme = etree.fromstring(theme_part.blob)
    ns = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
    theme.xpath("//a:majorFont/a:latin", namespaces=ns)[0].set("typeface", "Georgia")
    theme.xpath("//a:minorFont/a:latin", namespaces=ns)[0].set("typeface", "Verdana")
    theme_part._blob = etree.tostring(theme)
    logo = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (40, 20), (200, 30, 30)).save(logo, format="PNG")
    logo.seek(0)
    from pptx.oxml.shapes.picture import CT_Picture

    _, rid = master.part.get_or_add_image_part(logo)
    master.shapes._spTree.append(
        CT_Picture.new_pic(
            99, "Logo", "logo", rid, Inches(9.2), Inches(7.0), Inches(0.6), Inches(0.3)
        )
    )
    title_style = master._element.xpath("./p:txStyles/p:titleStyle/a:lvl1pPr/a:defRPr")[0]
    title_style.set("sz", "3600")
    for ph in master.placeholders:
        if ph.placeholder_format.idx == 0:
            ph.text_frame.paragraphs[0].font.color.rgb = RGBColor(0x00, 0x55, 0x99)
            if tiny_title:
                ph.height = Inches(0.25)
    # layouts in another order and with other names: chosen by placeholder types
    id_list = prs.slide_layouts._sldLayoutIdLst
    entries = list(id_list)
    for entry in entries:
        id_list.remove(entry)
    for entry in reversed(entries):
        id_list.append(entry)
    for i, layout in enumerate(prs.slide_layouts):
        layout._element.cSld.set("name", f"Layout {i}")
        if tiny_title:
            for ph in layout.placeholders:
                if ph.placeholder_format.idx == 0:
                    ph.height = Inches(0.25)
    example = prs.slides.add_slide(prs.slide_layouts[0])
    example.shapes.add_textbox(0, 0, Inches(1), Inches(1)).text_frame.text = "EXAMPLE"
    prs.save(path)
    return path


def test_an_organisations_template_is_used(world, tmp_path):
    template = organisation_template(tmp_path / "org.pptx")
    data = D.deck_bytes(world, lang="da", template=template, dpi=DPI)
    deck = open_deck(data)
    assert (deck.slide_width, deck.slide_height) == (Inches(10), Inches(7.5))  # its size
    assert "EXAMPLE" not in "".join(text_of(s) for s in deck.slides)  # its slides dropped
    original = {
        lay.name: [p.placeholder_format.type for p in lay.placeholders]
        for lay in Presentation(template).slide_layouts
    }
    types = [original[s.slide_layout.name] for s in deck.slides]
    assert 3 in types[0] and 4 in types[0]  # centre title + subtitle
    text_types = {1, 7}  # title + one object placeholder ("Title and Content")
    assert text_types <= set(types[1]) and text_types <= set(types[-1])
    for t in types[2:-1]:  # pictures on the layout with only a title
        assert [x for x in t if x not in (13, 15, 16)] == [1]
    master = deck.slide_master
    assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in master.shapes)  # the logo
    theme = master.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"
    ).blob
    assert b'typeface="Georgia"' in theme and b'typeface="Verdana"' in theme
    # titles start from the template's 36 pt, run font and colour are the template's
    run = deck.slides[1].shapes.title.text_frame.paragraphs[0].runs[0]
    assert run.font.size == Pt(36) and run.font.name is None and run.font.color.type is None
    for slide in list(deck.slides)[2:-1]:
        (picture,) = pictures(slide)
        assert picture.left + picture.width <= deck.slide_width
        assert picture.top + picture.height <= deck.slide_height
    assert D.text_overflows(deck) == []


def test_overflow_check_fires(world, tmp_path):
    template = organisation_template(tmp_path / "tiny.pptx", tiny_title=True)
    with pytest.raises(D.TextOverflowError, match=r"title of slide 1 does not fit its box"):
        D.deck_bytes(world, lang="en", template=template, dpi=DPI)
    with pytest.raises(D.TextOverflowError, match="even at 10 pt"):
        D.fit_font_size([D.Paragraph("word " * 300)], 3.0, 1.0, max_pt=20, min_pt=10)
    # shrinking: a box as wide as the line at 40 pt keeps 40 pt; half as wide needs two
    # lines, and two lines of 1.2 x 30 pt fill a 1 in (72 pt) box exactly
    words = [D.Paragraph("Share of households without fixed broadband ≥ 100/30 Mbit/s")]
    line = D.text_width_pt(words[0].text, 40) / 72
    assert D.fit_font_size(words, line + 0.01, 1.0, max_pt=40, min_pt=14) == 40
    assert D.fit_font_size(words, line / 2 + 0.3, 1.0, max_pt=40, min_pt=14) == 30
    assert D.count_lines(words[0].text, 30, (line / 2 + 0.3) * 72) == 2
    # the check reads a saved deck: a text box made too small is reported
    prs = D.load_template(None)
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    box = slide.shapes.add_textbox(0, 0, Inches(3), Inches(0.6))
    box.text_frame.word_wrap = True
    box.text_frame.text = "Andel husstande uden fast bredbånd ≥ 100/30 Mbit/s"
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(28)
    (problem,) = D.text_overflows(prs)
    assert problem.startswith("slide 1, 'TextBox 1'")
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(9)
    assert D.text_overflows(prs) == []


def test_line_count_matches_a_hand_count():
    # DejaVu Sans: "mmmm" is wider than "iiii"; a line fits what it measures
    w = D.text_width_pt("mmmm", 10)
    assert w > 2 * D.text_width_pt("iiii", 10)
    assert D.count_lines("mmmm mmmm", 10, 2 * w) == 2  # the space does not fit
    assert D.count_lines("mmmm mmmm", 10, 2 * w + D.text_width_pt(" ", 10)) == 1
    assert D.count_lines("mmmmmmmmmmmm", 10, 1.01 * w) == 3  # a long word is broken
    assert D.count_lines("a\nb", 10, 100) == 2


def test_ranks_share_ties_and_skip_no_data():
    import pandas as pd

    table = pd.DataFrame(
        {"households": [10, 10, 0, 10, 30], "underserved_share": [0.1, 0.3, np.nan, 0.1, 0.2]},
        index=["a", "b", "c", "d", "region"],
    )
    assert D.municipality_ranks(table).tolist() == [2, 1, pd.NA, 2]


def test_cli_deck(world_files, tmp_path, capsys):
    out = tmp_path / "decks" / "deck.pptx"
    assert main(["deck", str(world_files), "--out", str(out), "--lang", "da"]) == 0
    deck = Presentation(str(out))
    command = f"coverage-gap deck {world_files} --out {out} --lang da"
    assert f"Genskab: {command}" in notes_of(deck.slides[0])
    assert f"wrote {out}" in capsys.readouterr().out
    assert main(["deck", str(world_files), "--out", str(tmp_path / "deck.pdf")]) == 5  # output
    assert "must name a .pptx file" in capsys.readouterr().err
    missing = tmp_path / "none.pptx"
    assert main(["deck", str(world_files), "--out", str(out), "--template", str(missing)]) == 3
    assert "template not found" in capsys.readouterr().err
    broken = tmp_path / "broken.pptx"
    broken.write_bytes(b"not a zip")
    assert main(["deck", str(world_files), "--out", str(out), "--template", str(broken)]) == 3
    assert "not a PowerPoint presentation" in capsys.readouterr().err


# --- the claim check, the change between years, the offer match ------------------------


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The demo (scale 0.01) with its 2025 vintage and its [claim]: check and change."""
    from coverage_gap.config import load_config
    from coverage_gap.datasets import write_demo_inputs
    from coverage_gap.vintages import report_extras

    config = load_config(write_demo_inputs(tmp_path_factory.mktemp("history"), scale=0.01))
    results = run(config, keep_evidence=True)
    check, change = report_extras(config, results, progress=False)
    assert check is not None and change is not None
    return results, check, change


def test_the_deck_has_the_claim_curve_the_change_and_each_municipalitys_change(
    history, monkeypatch
):
    from coverage_gap import report

    results, check, change = history
    seen = []
    original = report.fact_sheet

    def recording(*args, **kwargs):
        seen.append(kwargs.get("change"))
        return original(*args, **kwargs)

    monkeypatch.setattr(report, "fact_sheet", recording)
    data = D.deck_bytes(results, lang="da", claim_check=check, change=change, dpi=DPI)
    deck = open_deck(data)
    titles = [s.shapes.title.text for s in deck.slides]
    codes = [c for c in results.municipalities.index if c != "region"]
    # 2 + 4 charts + claim + 2 change + 3 where to act + demand, growth + 17 + sources
    assert len(deck.slides) == 2 + 4 + 1 + 2 + 3 + 2 + len(codes) + 1 == 32
    assert titles[6:9] == [
        "Under hvilke definitioner holder påstanden?",
        "Underforsynede husstande fra 2025 til 2026: Region Sjælland",
        "Ændring i underforsynede husstande, 2025 → 2026, pr. kommune",
    ]
    assert check.verdict("da") in notes_of(deck.slides[6])
    # every fact sheet was drawn with the change, as in the report
    assert len(seen) == len(codes) and all(c is change.municipalities for c in seen)
    greve = next(s for s in deck.slides if s.shapes.title.text.startswith("Greve (0253)"))
    row = change.municipalities.loc["0253"]
    net = int(row["net_change_households"])
    sign = "−" if net < 0 else "+" if net > 0 else ""
    expected = f"Greve: 2025 → 2026: {sign}{da_int(abs(net))} underforsynede husstande; "
    assert expected in notes_of(greve)
    region = change.municipalities.loc["region"]
    served = da_int(region["became_served_households"])
    assert f"{served} blev forsynet" in notes_of(deck.slides[7])
    assert D.text_overflows(deck) == []
    # the exact definition with a minus sign, as the figures write it
    last = text_of(deck.slides[-1])
    assert "≥ −105 dBm" in last and "-105" not in last
    # without them the deck is as before: no claim and no change slides
    plain_titles = [s.shapes.title.text for s in open_deck(D.deck_bytes(results, dpi=DPI)).slides]
    assert len(plain_titles) == 29


def test_a_partial_offer_match_is_said_on_the_title_and_headline(world):
    """309 of 507 counted addresses matched (60.9 %): the headline slide says the rest
    count as without fixed service; a municipality without any offer is named."""
    import dataclasses

    from coverage_gap.evidence import OfferMatch

    match = OfferMatch(
        source="bbk.csv",
        offer_rows=1000,
        unmatched_rows=0,
        normalized_rows=0,
        ambiguous_rows=0,
        addresses_matched=309,
        addresses=1322,
        counted=507,
        counted_matched=309,
    )
    households = world.households.copy()
    aby = households["municipality_code"] == "0001"
    households.loc[aby, "fixed_down_mbps"] = np.nan  # Aby: no offer row at all
    partial = dataclasses.replace(world, offer_matches=(("fixed", match),), households=households)
    assert D.offer_match_lines(partial, "en") == [
        "Offers found for 60.9% of the addresses (309 of 507): the rest count as without "
        "fixed service.",
        "No offer found in 1 of the municipalities with data: Aby.",
    ]
    deck = open_deck(D.deck_bytes(partial, lang="da", dpi=DPI))
    for slide in list(deck.slides)[:2]:
        text = plain(text_of(slide))
        assert "Tilbud fundet for 60,9 % af adresserne (309 af 507)" in text
        assert "resten tælles som uden fast forbindelse" in text
        assert "Intet tilbud fundet i 1 af kommunerne med data: Aby." in text
        assert "TILBUDSMATCH: Tilbud fundet for 60,9 %" in notes_of(slide)
    # every address matched: nothing said
    full = dataclasses.replace(match, addresses_matched=1322, counted_matched=507)
    assert (
        D.offer_match_lines(dataclasses.replace(world, offer_matches=(("fixed", full),)), "en")
        == []
    )
