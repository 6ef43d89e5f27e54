"""Charts (their artists, labels, colours, footers) and the report files."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from matplotlib.colors import to_hex
from PIL import Image

from coverage_gap import GIGABIT, Provenance, plot
from coverage_gap.cli import main
from coverage_gap.datasets import make_demo_results
from coverage_gap.report import (
    danish_csv_bytes,
    fact_sheet,
    households_parquet_bytes,
    municipality_layer,
    workbook_bytes,
    write_report,
)


@pytest.fixture(scope="module")
def demo():
    return make_demo_results(scale=0.01)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _footer(ax):
    return [t.get_text() for t in ax.figure.texts if t.get_gid() == plot.FOOTER_TAG]


def _texts(fig):
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def test_number_formats():
    assert plot.format_percent(0.187, "da") == "18,7 %"
    assert plot.format_percent(0.187, "en") == "18.7%"
    assert plot.format_number(1234567, "da") == "1.234.567"
    assert plot.format_percent(float("nan")) == "–"


def test_map_patches_colours_labels_footer(demo):
    ax = plot.plot_gap_map(demo.municipalities, demo.boundaries, lang="da")
    faces = ax.collections[0].get_facecolors()
    assert len(faces) == 17
    shares = demo.municipalities["underserved_share"].drop("region")
    shares = shares.reindex(demo.boundaries["municipality_code"]).to_numpy()
    edges = plot.nice_breaks(shares.tolist())
    expected = [
        plot.SEQUENTIAL[min(np.searchsorted(edges, s, side="right") - 1, 4)] for s in shares
    ]
    assert [to_hex(f) for f in faces] == expected
    labels = {t.get_text().split("\n")[0] for t in ax.texts}
    assert {"Næstved", "Sorø", "Holbæk", "Solrød", "Køge", "Vordingborg"} <= labels
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert legend[0] == "0–" + plot.class_labels(edges, "da")[0].split("–")[1]
    (footer,) = _footer(ax)
    assert "synthetic demo data" in footer and "Nævner: husstande" in footer
    assert "100/30" in footer and "2026" in footer
    # the rule ignores mobile: the footer does not list a mobile threshold
    assert "dBm" not in footer and "mobil" not in footer
    title = ax.figure.texts[0].get_text()
    assert "100/30 Mbit/s" in title
    assert "25 km" in [t.get_text() for t in ax.texts]  # the scale bar


def test_multi_part_municipality_is_labelled_on_its_largest_part(demo):
    ax = plot.plot_gap_map(demo.municipalities, demo.boundaries)
    (label,) = [t for t in ax.texts if t.get_text().startswith("Vordingborg")]
    geometry = demo.boundaries.set_index("municipality_code").geometry["0390"]
    parts = shapely.get_parts(geometry)
    largest = parts[np.argmax(shapely.area(parts))]
    assert shapely.contains_xy(largest, *label.xy)


def test_no_data_and_few_households_on_the_map(demo):
    table = demo.municipalities.copy()
    table.loc["0259", ["households", "underserved_households"]] = 0
    table.loc["0259", "underserved_share"] = np.nan
    table.loc["0269", "households"] = 12
    ax = plot.plot_gap_map(table, demo.boundaries, lang="en", provenance=demo.provenance)
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "No data (no households)" in legend
    assert "Fewer than 30 households: uncertain" in legend
    notes = " ".join(t.get_text() for t in ax.figure.texts)
    assert "16 of 17 municipalities" in notes and "Solrød (12)" in notes
    (koege,) = [t.get_text() for t in ax.texts if t.get_text().startswith("Køge")]
    assert koege == "Køge"  # a name, never "0 %"


def test_ranking(demo):
    table = demo.municipalities
    ax = plot.plot_gap_ranking(table, lang="en", reference=0.2)
    assert len(ax.patches) == 17
    labels = [t.get_text() for t in ax.get_yticklabels()]
    worst = table.drop("region")["underserved_share"].idxmax()
    assert labels[-1] == table.loc[worst, "municipality_name"]
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    region = table.loc["region", "underserved_share"]
    assert "Region Sjælland: " + plot.format_percent(region) in legend
    assert "Claim: 1 in 5 (20%)" in legend
    assert "Denominator: households" in _footer(ax)[0]


def test_claim_line_is_opt_in(demo):
    ax = plot.plot_gap_ranking(demo.municipalities)
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert not any("Claim" in t for t in legend)
    ax = plot.plot_gap_ranking(demo.municipalities, lang="da", reference=0.2)
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "Påstand: hver femte (20 %)" in legend


def test_ranking_keeps_few_households_off_the_axis(demo):
    table = demo.municipalities.copy()
    # two households, one under-served: an interval reaching far beyond the others
    table.loc["0269", ["households", "underserved_households"]] = [2, 1]
    table.loc["0269", ["underserved_share", "share_ci_low", "share_ci_high"]] = [0.5, 0.09, 0.91]
    ax = plot.plot_gap_ranking(table, provenance=demo.provenance)
    others = table.drop(["region", "0269"])["share_ci_high"].max()
    assert ax.get_xlim()[1] < 0.91
    assert ax.get_xlim()[1] >= max(others, 0.5)
    assert "50.0% (2 households)" in [t.get_text() for t in ax.texts]


def test_breakdown_parts_add_up_to_the_share_in_ranking_order(demo):
    table = demo.municipalities
    ax = plot.plot_gap_breakdown(table)
    assert len(ax.patches) == 2 * 18
    widths = np.array([p.get_width() for p in ax.patches]).reshape(2, 18).sum(axis=0)
    order = [*plot.ranking_order(table), "region"]
    np.testing.assert_allclose(widths, table.loc[order, "underserved_share"].to_numpy())
    names = [t.get_text() for t in ax.get_yticklabels()]
    ranking = plot.plot_gap_ranking(table)
    assert names[:-1] == [t.get_text() for t in ranking.get_yticklabels()]
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert legend[0] == "No fixed ≥ 100/30 Mbit/s, but mobile ≥ −105 dBm"


def test_breakdown_without_fixed_service_says_what_to_do(demo):
    from coverage_gap.errors import PlotError

    table = demo.municipalities.assign(fixed_unserved_households=np.nan)
    with pytest.raises(PlotError, match="give the run fixed offers") as caught:
        plot.plot_gap_breakdown(table, provenance=demo.provenance)
    assert isinstance(caught.value, ValueError)  # callers catching ValueError keep working


def test_comparison_of_standards(demo):
    from coverage_gap import DK_100_30, summarize_gap

    tables = {}
    for s in (DK_100_30, GIGABIT):
        h = demo.households.assign(
            underserved=~(demo.households["fixed_down_mbps"] >= s.fixed_down_mbps)
        )
        tables[s.name] = summarize_gap(h, demo.boundaries, Provenance(s, "households"))
    ax = plot.plot_gap_by_standard(tables, lang="da")
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert legend[0].startswith("100/30: fast ≥ 100/30") and legend[1].startswith("gigabit")
    gigabit = ax.collections[1].get_offsets()[:, 0]
    assert gigabit.max() == pytest.approx(tables["gigabit"]["underserved_share"].max())


def test_hotspot_grid_by_hand():
    t = pd.DataFrame(
        {
            "x": [500.0, 700.0, 1500.0, 2500.0],
            "y": [500.0, 900.0, 500.0, 1500.0],
            "households": [1, 2, 4, 8],
            "underserved": [True, True, False, True],
            "assignment": ["inside", "inside", "inside", "unassigned"],
        }
    )
    counts, extent = plot.hotspot_grid(t)
    assert counts.tolist() == [[3.0, 0.0]] and extent == (0.0, 2000.0, 0.0, 1000.0)


def test_hotspots_total_equals_underserved(demo):
    counts, _ = plot.hotspot_grid(demo.households)
    assert counts.sum() == demo.municipalities.loc["region", "underserved_households"]
    ax = plot.plot_hotspots(demo.households, demo.boundaries, provenance=demo.provenance)
    assert ax.images[0].get_array().sum() == pytest.approx(counts.sum())
    assert plot.maps._count_labels(plot.maps._count_classes(23), "da") == [
        "1",
        "2–4",
        "5–9",
        "10–19",
        "20–49",
    ]


def test_demand_chart(demo):
    ax = plot.plot_demand(demo.demand, lang="da", provenance=demo.provenance)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "taskforce: 50 % om året",
        "tilpasset aftagende vækst (dansk serie)",
        "centralt skøn",
    ]
    assert ax.get_xlabel() == "År" and ax.get_ylabel() == "mio. GB pr. måned"  # 4,000 x 40 GB
    (busy,) = ax.child_axes
    assert busy.get_ylabel().startswith("Travleste time, ")
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "Spænd mellem scenarierne" in legend
    footer = _footer(ax)[0]
    assert "Antagelse: 40 GB pr. husstand og måned i 2026" in footer
    assert "taskforce: 50 % om året = konstant: +50 % om året" in footer
    assert "Niveau" not in footer  # the broadband standard is not the demand's footer
    # one tick format on the left axis: plain numbers, no scientific notation
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all("×" not in t and "e" not in t for t in ticks)


def test_growth_chart_draws_the_fit_over_the_observed_years():
    from coverage_gap.danish import danish_mobile_growth, fit_danish_mobile_growth
    from coverage_gap.demand import TASKFORCE_50

    ax = plot.plot_growth_rates(
        danish_mobile_growth(),
        [TASKFORCE_50],
        start_year=2026,
        end_year=2035,
        lang="da",
        fitted=fit_danish_mobile_growth(),
    )
    (fit,) = [line for line in ax.get_lines() if len(line.get_xdata()) == 100]
    assert fit.get_xdata()[0] == pytest.approx(2014.5) and fit.get_xdata()[-1] == pytest.approx(
        2023
    )
    footer = _footer(ax)[0]
    assert "Telestatistik" in footer and "synthetic" not in footer
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "taskforce: 50 % om året" in legend and "Tilpasset de målte år" in legend


def test_fact_sheet(demo):
    fig = fact_sheet(demo, "0376", lang="da")
    texts = _texts(fig)
    assert fig.texts[0].get_text() == "Guldborgsund (0376)"
    assert any(t.startswith("Uden fast ≥ 100/30") for t in texts)
    assert any(t.startswith("Uden mobil ≥ −105 dBm") for t in texts)  # the mobile gap too
    assert "af husstande er underforsynede" in texts


def test_fact_sheet_without_data_says_so(demo):
    from dataclasses import replace

    table = demo.municipalities.copy()
    table.loc["0259", ["households", "underserved_households"]] = 0
    table.loc["0259", ["underserved_share", "share_ci_low", "share_ci_high"]] = np.nan
    results = replace(demo, municipalities=table)
    fig = fact_sheet(results, "0259", lang="da")
    texts = _texts(fig)
    assert "Ingen data" in texts
    assert any("ingen husstande i Køge" in t for t in texts)
    assert not any("%" in t and t.strip() != "%" for t in texts[2:4])  # no share drawn


def test_households_parquet_is_wkb(demo, tmp_path):
    data = households_parquet_bytes(demo.households)
    path = tmp_path / "h.parquet"
    path.write_bytes(data)
    meta = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert meta["columns"]["geometry"]["encoding"] == "WKB" and meta["version"] == "1.0.0"
    back = gpd.read_parquet(path)
    valid = demo.households["x"].notna().to_numpy()
    np.testing.assert_array_equal(back.geometry.x[valid], demo.households["x"][valid])
    assert back.geometry.isna().sum() == (~valid).sum()
    wkb = pq.read_table(path, columns=["geometry"]).column(0).to_pylist()
    first = next(w for w in wkb if w is not None)
    assert shapely.from_wkb(first).geom_type == "Point" and len(first) == 21


def test_danish_csv_variant(demo):
    data = danish_csv_bytes(demo.municipalities)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(
        io.BytesIO(data),
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={"municipality_code": str},
    )
    pd.testing.assert_series_equal(
        back["underserved_share"],
        demo.municipalities["underserved_share"].reset_index(drop=True),
    )


def test_workbook_for_officials(demo):
    from openpyxl import load_workbook

    data = workbook_bytes(
        {"municipalities": demo.municipalities, "reconciliation": demo.reconciliation},
        lang="da",
        about=[("Niveau", "100/30")],
    )
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Kommuner", "Afstemning", "Om tallene"]
    sheet = book["Kommuner"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Kommunekode", "Kommune", "Adresser"]
    share = header.index("Andel underforsynede") + 1
    assert sheet.cell(2, share).number_format == "0.0%"
    year = header.index("Dataår") + 1
    assert sheet.cell(2, year).value == 2026  # a number, as in every sheet
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref.startswith("A1")
    assert sheet.cell(2, 1).value == "0253"  # codes stay text, no index column
    assert sheet.cell(19, 1).value == "region" and sheet.cell(19, 1).font.bold
    assert sheet.column_dimensions["B"].width >= len("Guldborgsund")
    assert book["Afstemning"].cell(2, 1).value == "inden for en kommune"
    assert data == workbook_bytes(
        {"municipalities": demo.municipalities, "reconciliation": demo.reconciliation},
        lang="da",
        about=[("Niveau", "100/30")],
    )


def test_municipality_layer_for_explore(demo):
    layer = municipality_layer(demo.municipalities, demo.boundaries)
    assert isinstance(layer, gpd.GeoDataFrame) and layer.crs.to_epsg() == 25832
    assert len(layer) == 17 and "region" not in set(layer["municipality_code"])
    assert {"underserved_share", "underserved_pct", "has_data", "few_households"} <= set(layer)
    json.loads(layer.to_json())  # serialisable as .explore() needs it
    assert hasattr(layer, "explore")


def test_report_files_open_and_rerun_is_identical(demo, tmp_path):
    a = write_report(demo, tmp_path / "a", lang="da")
    b = write_report(demo, tmp_path / "b", lang="da")
    for key, path in a.items():
        assert path.stat().st_size > 0, key
        assert path.read_bytes() == b[key].read_bytes(), key
    figures = sorted(p.name for p in (tmp_path / "a" / "figures").iterdir())
    assert {"map_share.png", "ranking.svg", "demand_region.png", "breakdown.png"} <= set(figures)
    with Image.open(tmp_path / "a" / "figures" / "map_share.png") as image:
        assert image.info.get("dpi", (0,))[0] == pytest.approx(200, abs=1)
    sheets = sorted(p.stem for p in (tmp_path / "a" / "fact_sheets").iterdir())
    assert len(sheets) == 17 and sheets[0] == "0253"
    pdf = (tmp_path / "a" / "fact_sheets.pdf").read_bytes()
    assert (
        pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 17
    )
    csv = pd.read_csv(tmp_path / "a" / "municipalities.csv", dtype={"municipality_code": str})
    xlsx = pd.read_excel(
        tmp_path / "a" / "tables.xlsx", sheet_name="Kommuner", dtype={"Kommunekode": str}
    )
    np.testing.assert_allclose(xlsx["Andel underforsynede"], csv["underserved_share"])
    assert xlsx["Kommunekode"].tolist() == csv["municipality_code"].tolist()
    gpkg = gpd.read_file(tmp_path / "a" / "municipalities.gpkg")
    assert len(gpkg) == 17 and gpkg.crs.to_epsg() == 25832
    merged = gpkg.set_index("municipality_code")["underserved_households"]
    assert (
        merged.to_dict()
        == csv.set_index("municipality_code")["underserved_households"].drop("region").to_dict()
    )
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert set(manifest["outputs"]) == {
        p.relative_to(tmp_path / "a").as_posix()
        for p in (tmp_path / "a").rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert not list(tmp_path.rglob("*.part*"))


def test_report_command_on_the_demo(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "d"), "--scale", "0.01", "--no-progress"]) == 0
    assert (tmp_path / "d" / "fact_sheets" / "0360.png").exists()
    assert (tmp_path / "d" / "inputs" / "municipalities.gpkg").exists()


def test_map_pixels_have_the_class_colours(demo):
    """Image check: inside each municipality (away from labels) the rendered pixel has the
    colour of the municipality's class."""
    from matplotlib.colors import to_rgb

    table = demo.municipalities
    ax = plot.plot_gap_map(table, demo.boundaries, labels=False)
    fig = ax.figure
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")).astype(int)
    height = image.shape[0]
    edges = plot.nice_breaks(table["underserved_share"].drop("region").tolist())
    checked = 0
    for _, row in demo.boundaries.iterrows():
        inner = row.geometry.buffer(-1500)
        if inner.is_empty:
            continue
        ring = shapely.get_exterior_ring(max(shapely.get_parts(inner), key=lambda g: g.area))
        point = shapely.line_interpolate_point(ring, 0.25, normalized=True)
        px, py = ax.transData.transform((point.x, point.y))
        pixel = image[round(height - py), round(px)]
        share = table.loc[row["municipality_code"], "underserved_share"]
        expected = plot.SEQUENTIAL[min(int(np.searchsorted(edges, share, side="right")) - 1, 4)]
        assert np.abs(pixel - np.array(to_rgb(expected)) * 255).max() <= 3, row["municipality_name"]
        checked += 1
    assert checked >= 15
