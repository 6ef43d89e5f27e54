"""Charts (their artists, labels, colours, footers) and the report files."""

from __future__ import annotations

import hashlib
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.colors import to_hex
from PIL import Image

from coverage_gap import plot
from coverage_gap.cli import main
from coverage_gap.datasets import make_demo_results
from coverage_gap.report import fact_sheet, write_report


@pytest.fixture(scope="module")
def demo():
    return make_demo_results(scale=0.01)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _footer(ax):
    return [t.get_text() for t in ax.figure.texts if t.get_gid() == plot.FOOTER_TAG]


def test_number_formats():
    assert plot.format_percent(0.187, "da") == "18,7 %"
    assert plot.format_percent(0.187, "en") == "18.7%"
    assert plot.format_number(1234567, "da") == "1.234.567"
    assert plot.format_percent(float("nan")) == "–"


def test_map_patches_colours_labels_footer(demo):
    ax = plot.plot_gap_map(demo.municipalities, demo.boundaries, lang="da")
    faces = ax.collections[0].get_facecolors()
    assert len(faces) == 17
    shares = demo.municipalities["underserved_share"].drop("region").to_numpy()
    edges = plot.nice_breaks(shares.tolist())
    expected = [
        plot.SEQUENTIAL[min(np.searchsorted(edges, s, side="right") - 1, 4)] for s in shares
    ]
    assert [to_hex(f) for f in faces] == expected
    names = {t.get_text() for t in ax.texts}
    assert {"Næstved", "Sorø", "Holbæk", "Solrød", "Køge"} <= names
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "0 % – " + plot.format_percent(edges[1], "da", 0)
    (footer,) = _footer(ax)
    assert "synthetic demo data" in footer and "Nævner: husstande" in footer
    assert "100/30" in footer and "2026" in footer


def test_ranking(demo):
    table = demo.municipalities
    ax = plot.plot_gap_ranking(table, lang="en", reference=0.2)
    assert len(ax.patches) == 17
    labels = [t.get_text() for t in ax.get_yticklabels()]
    worst = table.drop("region")["underserved_share"].idxmax()
    assert labels[-1] == table.loc[worst, "municipality_name"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "Region: " + plot.format_percent(table.loc["region", "underserved_share"])
    assert legend[1] == "Claim: 1 in 5 (20%)"
    assert "Denominator: households" in _footer(ax)[0]


def test_ranking_danish_claim(demo):
    ax = plot.plot_gap_ranking(demo.municipalities, lang="da")
    assert "Påstand: hver femte (20 %)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_breakdown_segments_add_up(demo):
    table = demo.municipalities
    ax = plot.plot_gap_breakdown(table)
    assert len(ax.patches) == 3 * 18
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, 18).sum(axis=0)
    expected = (
        (
            table["fixed_unserved_households"]
            + table["mobile_unserved_households"]
            - table["unserved_both_households"]
        )
        / table["households"]
    ).to_numpy()
    np.testing.assert_allclose(np.sort(widths), np.sort(expected))


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


def test_demand_chart(demo):
    ax = plot.plot_demand(demo.demand, lang="da")
    assert [line.get_label() for line in ax.get_lines()] == list(
        dict.fromkeys(demo.demand["scenario"])
    )
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "År"


def test_image_of_the_ranking_is_stable(demo):
    """Two renderings give the same pixels; the bars sit where the shares say."""

    def render():
        ax = plot.plot_gap_ranking(demo.municipalities)
        buffer = io.BytesIO()
        ax.figure.savefig(buffer, format="png", dpi=50)
        plt.close(ax.figure)
        return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))

    first, second = render(), render()
    assert first.shape[:2] == (375, 666)
    np.testing.assert_array_equal(first, second)
    blue = np.array([0x00, 0x72, 0xB2])
    assert (np.abs(first[..., :3].astype(int) - blue).sum(axis=2) < 10).sum() > 2000


def test_fact_sheet(demo):
    fig = fact_sheet(demo, "0376", lang="da")
    assert fig.axes[0].get_title() == "Guldborgsund (0376)"
    assert "Husstande:" in fig.axes[1].texts[0].get_text()


def test_report_files_open_and_rerun_is_identical(demo, tmp_path):
    a = write_report(demo, tmp_path / "a", lang="da")
    b = write_report(demo, tmp_path / "b", lang="da")
    for key, path in a.items():
        assert path.stat().st_size > 0, key
        assert path.read_bytes() == b[key].read_bytes(), key
    figures = sorted(p.name for p in (tmp_path / "a" / "figures").iterdir())
    assert {"map_share.png", "ranking.svg", "demand_region.png"} <= set(figures)
    with Image.open(tmp_path / "a" / "figures" / "map_share.png") as image:
        assert image.info.get("dpi", (0,))[0] == pytest.approx(200, abs=1)
    sheets = sorted(p.stem for p in (tmp_path / "a" / "fact_sheets").iterdir())
    assert len(sheets) == 17 and sheets[0] == "0253"
    csv = pd.read_csv(tmp_path / "a" / "municipalities.csv", dtype={"municipality_code": str})
    xlsx = pd.read_excel(
        tmp_path / "a" / "tables.xlsx",
        sheet_name="municipalities",
        dtype={"municipality_code": str},
    )
    pd.testing.assert_frame_equal(csv, xlsx, check_dtype=False)
    assert not list((tmp_path / "a").rglob("*.part"))


def test_report_command_on_the_demo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--scale", "0.01", "--no-progress"]) == 0
    digest = hashlib.sha256((tmp_path / "figures" / "ranking.png").read_bytes()).hexdigest()
    assert len(digest) == 64
    assert (tmp_path / "fact_sheets" / "0360.png").exists()


def test_map_pixels_have_the_class_colours(demo):
    """Image check: inside each municipality (away from its label) the rendered pixel has
    the colour of the municipality's class."""
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
