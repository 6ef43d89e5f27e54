"""The dask engine: the same tables as in memory, across partition edges, with every guard.

One 2-worker local cluster (processes) serves the module; the inputs are tiny, so the
tests take seconds. Expected tables are the in-memory run's, byte for byte.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gap.config import load_config
from coverage_gap.engine.partitions import id_buckets, partition_files
from coverage_gap.errors import (
    AssignmentError,
    ConfigError,
    InputError,
    OfferMatchError,
    RasterError,
)
from coverage_gap.keys import normalize_ids
from coverage_gap.pipeline import run
from coverage_gap.report import csv_bytes

distributed = pytest.importorskip("distributed")
from coverage_gap.engine.dask import run_dask  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _as_dask(config):
    return replace(config, engine=replace(config.engine, kind="dask"))


def _tables(results) -> tuple[bytes, bytes]:
    return csv_bytes(results.municipalities), csv_bytes(results.reconciliation)


def _split(frame: pd.DataFrame, parts: list[list[int]], folder: Path, suffix: str) -> Path:
    """Write ``frame``'s rows ``parts[i]`` as file i of ``folder`` (CSV or Parquet)."""
    folder.mkdir()
    for i, rows in enumerate(parts):
        piece = frame.iloc[rows]
        if suffix == ".csv":
            piece.to_csv(folder / f"part-{i}.csv", index=False)
        else:
            piece.to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def _partitioned(world_files: Path, households: list[list[int]], offers: list[list[int]]):
    """The tiny world's config with households and offers split into partition files."""
    folder = world_files.parent
    _split(
        pd.read_csv(folder / "households.csv", dtype={"address_id": str}),
        households,
        folder / "h",
        ".csv",
    )
    _split(
        pd.read_csv(folder / "fixed.csv", dtype={"address_id": str}), offers, folder / "o", ".csv"
    )
    text = world_files.read_text(encoding="utf-8")
    text = text.replace('path = "households.csv"', 'path = "h"')
    text = text.replace('path = "fixed.csv"', 'path = "o"\nkind = "table"')
    config = folder / "partitioned.toml"
    config.write_text(text, encoding="utf-8")
    return _as_dask(load_config(config))


# --- the demo, byte for byte -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from coverage_gap.datasets import write_demo_inputs

    return write_demo_inputs(tmp_path_factory.mktemp("demo"), scale=0.02)


def test_demo_config_with_engine_dask_gives_identical_tables(demo, tmp_path):
    """The command line as a user runs it (its own local cluster), against the in-memory run."""
    from coverage_gap.cli import main

    assert main(["run", str(demo), "--out", str(tmp_path / "memory"), "-q"]) == 0
    assert main(["run", str(demo), "--out", str(tmp_path / "dask"), "-q", "--engine", "dask"]) == 0
    for name in (
        "municipalities.csv",
        "reconciliation.csv",
        "demand.csv",
        "municipalities_da.csv",
        "reconciliation_da.csv",
    ):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "memory" / name).read_bytes()
    parts = sorted((tmp_path / "dask" / "households.parquet").iterdir())
    assert [p.name for p in parts] == ["part-00000.parquet"]
    import json

    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["engine"]["kind"] == "dask" and manifest["engine"]["workers"] >= 1
    assert "households.parquet/part-00000.parquet" in manifest["outputs"]


def test_demo_in_partitions_gives_identical_tables_and_households(demo, client, tmp_path):
    """Households in four files (one empty), offers in three others, shuffled across them."""
    memory = run(load_config(demo))
    households = pq.read_table(demo.parent / "households.parquet")
    n = households.num_rows
    folder = tmp_path / "households"
    folder.mkdir()
    cuts = [0, n // 3, n // 3, 2 * n // 3, n]  # the second file is empty
    for i in range(4):
        pq.write_table(
            households.slice(cuts[i], cuts[i + 1] - cuts[i]).replace_schema_metadata(
                households.schema.metadata
            ),
            folder / f"part-{i}.parquet",
        )
    offers = pd.read_csv(demo.parent / "fixed_offers.csv", dtype={"address_id": str})
    order = np.random.default_rng(1).permutation(len(offers))
    _split(offers, [order[i::3].tolist() for i in range(3)], tmp_path / "offers", ".csv")
    config = load_config(demo)
    config = replace(
        config,
        households=replace(config.households, path=folder),
        fixed=(replace(config.fixed[0], path=tmp_path / "offers"),),
    )
    out = tmp_path / "out"
    result = run_dask(_as_dask(config), households_out=out, client=client)
    assert _tables(result) == _tables(memory)
    assert result.engine["household_partitions"] == 4
    assert [m.to_dict() for _, m in result.offer_matches] == [
        {**m.to_dict(), "source": str(tmp_path / "offers")} for _, m in memory.offer_matches
    ]
    # The per-household result: the in-memory rows, in order, spread over the files.
    names = [name for name, _ in result.household_parts]
    assert names == ["part-00000.parquet", "part-00002.parquet", "part-00003.parquet"]
    parts = pd.concat([pd.read_parquet(out / name) for name in names], ignore_index=True)
    expected = memory.households.reset_index(drop=True)
    for column in (
        "address_id",
        "municipality_code",
        "assignment",
        "underserved",
        "fixed_served",
        "mobile_signal_dbm",
        "fixed_down_mbps",
    ):
        left = parts[column].astype(object).where(parts[column].notna(), None)
        right = expected[column].astype(object).where(expected[column].notna(), None)
        assert left.tolist() == right.tolist(), column


# --- partition edges on the hand-made world ------------------------------------------------


def test_offers_in_other_partitions_empty_partition_and_one_without_points(world_files, client):
    # h1..h4 | nothing | h11 (no point) | the rest; offers in two files, h1's in the last.
    config = _partitioned(
        world_files,
        households=[[0, 1, 2, 3], [], [10], [4, 5, 6, 7, 8, 9, 11]],
        offers=[[1, 2, 3, 4, 5, 6], [0, 7, 8, 9, 10, 11, 12]],
    )
    memory = run(load_config(world_files))
    result = run_dask(config, client=client)
    assert _tables(result) == _tables(memory)
    assert result.reconciliation.loc["invalid", "addresses"] == 1
    assert result.reconciliation.loc["total", "households"] == 23
    (match,) = [m for _, m in result.offer_matches]
    assert (match.addresses_matched, match.unmatched_rows, match.unmatched_ids) == (10, 1, ("zz",))
    messages = [p.message for p in result.problems]
    assert any("rows without finite coordinates" in m for m in messages)


def test_a_municipality_without_offers_is_named_as_in_memory(world_files, offers, client):
    # No offer row for municipality 0002 (h3, h5, h6, h9), its addresses in two partitions.
    mine = offers[~offers["address_id"].isin(["h3", "h5", "h6", "h9"])]
    mine.to_csv(world_files.parent / "fixed.csv", index=False)
    world_files.write_text(
        world_files.read_text() + "\n[checks]\nmin_offer_match_share = 0.1\n", encoding="utf-8"
    )
    n = len(mine)
    config = _partitioned(
        world_files,
        households=[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11]],
        offers=[list(range(0, n, 2)), list(range(1, n, 2))],
    )
    memory = run(load_config(world_files))
    result = run_dask(config, client=client)

    def gaps(problems):
        return [p.message for p in problems if "no fixed offer row" in p.message]

    assert gaps(result.problems) == gaps(memory.problems)
    assert gaps(result.problems)[0].startswith(
        "no fixed offer row for any of the 4 addresses in 0002"
    )


def test_coverage_polygons_and_mobile_offer_tables_in_partitions(world_files, client):
    import geopandas as gpd
    import shapely

    from coverage_gap.config import LayerSpec

    folder = world_files.parent
    gpd.GeoDataFrame(
        {"down": [1000.0], "up": [1000.0]},
        geometry=[shapely.box(2000, 0, 3000, 1000)],
        crs="EPSG:25832",
    ).to_file(folder / "fibre.gpkg")
    mobile = pd.DataFrame(
        {
            "address_id": ["h3", "h6", "h8", "h8"],
            "down_mbps": [200.0, 50.0, 100.0, 10.0],
            "up_mbps": [50.0, 5.0, 30.0, 1.0],
        }
    )
    mobile.to_csv(folder / "mobile.csv", index=False)
    polygons = LayerSpec(folder / "fibre.gpkg", "polygons", {"download": "down", "upload": "up"})
    table = LayerSpec(
        folder / "mobile.csv", "table", {"download": "down_mbps", "upload": "up_mbps"}
    )
    standard = {
        "mobile_down_mbps": 100,
        "mobile_up_mbps": 30,
        "underserved": "no_fixed_and_no_mobile",
    }

    def extended(config, mobile_path):
        return replace(
            config,
            fixed=(*config.fixed, polygons),
            mobile=(*config.mobile, replace(table, path=mobile_path)),
            standard=replace(config.standard, **standard),
            checks=replace(config.checks, min_offer_match_share=0.0),
        )

    memory = run(extended(load_config(world_files), folder / "mobile.csv"))
    _split(mobile, [[3], [0, 1], [2]], folder / "m", ".csv")
    config = _partitioned(
        world_files,
        households=[[0, 1, 2, 3, 4, 5], list(range(6, 12))],
        offers=[list(range(7)), list(range(7, 13))],
    )
    result = run_dask(extended(config, folder / "m"), client=client)
    assert _tables(result) == _tables(memory)
    assert [w for w, _ in result.offer_matches] == ["fixed", "mobile"]
    assert (
        result.municipalities.loc["region", "unserved_both_households"]
        == (memory.municipalities.loc["region", "unserved_both_households"])
    )


def test_duplicate_ids_across_partitions_are_refused_like_in_memory(world_files, client):
    config = _partitioned(
        world_files,
        households=[[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11, 0]],
        offers=[list(range(13))],
    )
    with pytest.raises(InputError, match="duplicate address ids") as info:
        run_dask(config, client=client)
    (problem,) = [p for p in info.value.problems if "duplicate" in p.message]
    assert problem.count == 2 and problem.rows == ("h1",)


def test_whole_input_checks_are_not_asked_of_each_partition(world_files, client):
    # No partition alone has usable points, but the whole input has none either: an error.
    config = _partitioned(world_files, households=[[10], []], offers=[list(range(13))])
    with pytest.raises(InputError, match="no row has usable coordinates"):
        run_dask(config, client=client)


def test_offer_match_share_is_judged_over_the_whole_input(world_files, client):
    # Offers for h1, h2 and h3 only, in the second file; households in two files.
    folder = world_files.parent
    offers = pd.read_csv(folder / "fixed.csv", dtype={"address_id": str})
    offers.iloc[:4].to_csv(folder / "fixed.csv", index=False)
    config = _partitioned(
        world_files, households=[[3, 4, 5], [0, 1, 2, *range(6, 12)]], offers=[[], [0, 1, 2, 3]]
    )
    with pytest.raises(OfferMatchError) as dask_error:
        run_dask(config, client=client)
    with pytest.raises(OfferMatchError) as memory_error:
        run(load_config(world_files))
    assert "matches 3 of 12 addresses (25.0%)" in str(dask_error.value)
    # The same message; the household ids shown are the first in file order.
    dask_message = dask_error.value.problems[0].message
    memory_message = memory_error.value.problems[0].message
    assert dask_message.split(", e.g.")[0] == memory_message.split(", e.g.")[0]
    assert dask_message.endswith("e.g. ['h4', 'h5', 'h6'])")
    # Lowered on purpose: the run goes on although the first file matches nothing.
    lowered = replace(config, checks=replace(config.checks, min_offer_match_share=0.2))
    (match,) = [m for _, m in run_dask(lowered, client=client).offer_matches]
    assert (match.addresses_matched, match.addresses) == (3, 12)


def test_located_share_is_judged_over_the_whole_input(world_files, client, tmp_path):
    folder = world_files.parent
    table = pd.read_csv(folder / "households.csv", dtype={"address_id": str})
    swapped = table.rename(columns={"x": "y", "y": "x"})
    swapped["x"] += 6_000_000
    swapped.to_csv(folder / "households.csv", index=False)
    config = _partitioned(
        world_files, households=[[0, 1], list(range(2, 12))], offers=[list(range(13))]
    )
    with pytest.raises(AssignmentError) as dask_error:
        run_dask(config, client=client)
    with pytest.raises(AssignmentError) as memory_error:
        run(load_config(world_files))
    assert (
        dask_error.value.problems[0].message.split(":")[0]
        == (memory_error.value.problems[0].message.split(":")[0])
    )


def test_raster_overlapping_no_household_is_refused_like_in_memory(world_files, client):
    from affine import Affine

    from tests.conftest import OPERATOR_A, write_raster

    write_raster(
        world_files.parent / "operator_b.tif",
        OPERATOR_A,
        transform=Affine(1000, 0, 500_000, 0, -1000, 6_000_000),
    )
    config = _partitioned(
        world_files, households=[[0, 1], list(range(2, 12))], offers=[list(range(13))]
    )
    with pytest.raises(RasterError) as dask_error:
        run_dask(config, client=client)
    with pytest.raises(RasterError) as memory_error:
        run(load_config(world_files))
    assert str(dask_error.value) == str(memory_error.value)


def test_ids_that_match_only_after_normalisation_across_partitions(world_files, client):
    folder = world_files.parent
    offers = pd.read_csv(folder / "fixed.csv", dtype={"address_id": str})
    offers.loc[0, "address_id"] = " H1 "  # not a UUID: capitals matter, it matches nothing
    offers.loc[4, "address_id"] = " h5"  # matches h5 once the space is trimmed
    offers.to_csv(folder / "fixed.csv", index=False)
    memory = run(load_config(world_files))
    config = _partitioned(
        world_files,
        households=[[0, 1, 2, 3, 4], list(range(5, 12))],
        offers=[list(range(6, 13)), list(range(6))],
    )
    result = run_dask(config, client=client)
    assert _tables(result) == _tables(memory)
    (dask_match,), (memory_match,) = (
        [m for _, m in result.offer_matches],
        [m for _, m in memory.offer_matches],
    )
    assert dask_match.normalized_rows == memory_match.normalized_rows == 1
    assert dask_match.normalized_ids == memory_match.normalized_ids == (" h5",)
    # The first unmatched rows in file order (the second file holds row 0 of the original).
    assert memory_match.unmatched_ids == (" H1 ", "zz")
    assert dask_match.unmatched_ids == ("zz", " H1 ")


def test_sections_that_need_every_household_in_memory_are_left_out_with_a_warning(world_files):
    from coverage_gap.areas import AreaSpec
    from coverage_gap.config import AreasConfig

    config = _as_dask(load_config(world_files))
    plain = run_dask(config)
    with_areas = run_dask(replace(config, areas=(AreasConfig(AreaSpec(grid="1km")),)))
    pd.testing.assert_frame_equal(with_areas.municipalities, plain.municipalities)
    assert with_areas.engine["sections_left_out"] == ["areas"]
    assert plain.engine["sections_left_out"] == []
    (warning,) = [p for p in with_areas.problems if p.source == "[areas]"]
    assert warning.severity == "warning"
    assert "not computed by the dask engine" in warning.message
    with pytest.raises(ConfigError, match="run_dask"):
        run(config)


def test_engine_section_is_checked(world_files):
    text = world_files.read_text(encoding="utf-8")
    world_files.write_text(text + '\n[engine]\nkind = "spark"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[engine\] kind must be one of"):
        load_config(world_files)
    world_files.write_text(text + '\n[engine]\nscheduler = "tcp://x:1"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r'\[engine\] scheduler applies to kind = "dask"'):
        load_config(world_files)
    world_files.write_text(text + '\n[engine]\nkind = "dask"\nworkers = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[engine\] workers must be a whole number >= 1"):
        load_config(world_files)
    world_files.write_text(
        text + '\n[engine]\nkind = "dask"\nworkers = 2\nscratch = "tmp"\n', encoding="utf-8"
    )
    engine = load_config(world_files).engine
    assert (engine.workers, engine.scratch) == (2, world_files.parent / "tmp")


def test_scheduler_without_dask_engine_is_a_configuration_error(world_files, tmp_path, capsys):
    from coverage_gap.cli import EXIT_CONFIG, main

    text = world_files.read_text(encoding="utf-8")
    world_files.write_text(text + '\n[engine]\nkind = "dask"\n', encoding="utf-8")
    assert main(["report", str(world_files), "--out", str(tmp_path / "r")]) == EXIT_CONFIG
    assert "runs in memory" in capsys.readouterr().err
    world_files.write_text(text, encoding="utf-8")

    code = main(["run", str(world_files), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"])
    assert code == EXIT_CONFIG
    assert "--scheduler needs the dask engine" in capsys.readouterr().err


def test_partition_files_refuses_an_empty_folder(tmp_path):
    with pytest.raises(InputError, match="holds no data files"):
        partition_files(tmp_path)


# --- the bucket key -------------------------------------------------------------------------

_ID = st.text(alphabet="0123456789abcdefABCDEF-åÅ", min_size=0, max_size=12)


@settings(max_examples=300, deadline=None)
@given(_ID, st.integers(0, 3), st.sampled_from(["", " ", "\t", "  "]), st.booleans())
def test_ids_equal_after_normalisation_share_a_bucket(base, zeros, space, decompose):
    variant = space + "0" * zeros + base + space
    if decompose:
        variant = unicodedata.normalize("NFD", variant)
    uuid_like = "0a3f5081-10e6-32b8-e044-0003ba298018"
    for left, right in ((base, variant), (uuid_like, uuid_like.upper())):
        pair = pd.Series([left, right])
        same = normalize_ids(pair, numeric=True).to_pylist()
        if same[0] == same[1]:
            buckets = id_buckets(pair, 97)
            assert buckets[0] == buckets[1]


def test_buckets_spread_ids_evenly():
    ids = pd.Series([f"{i:08d}" for i in range(20_000)])
    counts = np.bincount(id_buckets(ids, 16), minlength=16)
    assert counts.min() > 0.8 * 20_000 / 16
