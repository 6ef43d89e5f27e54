"""Guards against silently wrong figures: each plausible mistake gives a clear error or
exactly the right answer (issue: no silent wrong figures).

Expected values are worked out by hand on the twelve-address world of ``conftest.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from coverage_gap import DK_100_30, MunicipalityIndex, Provenance, classify_households
from coverage_gap.aggregate import summarize_gap
from coverage_gap.cli import main
from coverage_gap.config import load_config
from coverage_gap.errors import AssignmentError, ConfigError, InputError, OfferMatchError
from coverage_gap.evidence import gather_evidence, match_offers
from coverage_gap.io import read_households, read_offers
from coverage_gap.keys import match_keys_normalized
from coverage_gap.pipeline import run
from coverage_gap.standards import ServiceStandard

STANDARD = ServiceStandard("100/30", fixed_down_mbps=100, fixed_up_mbps=30)


# --- 1. offers keyed on the wrong column ---------------------------------------------


def test_offers_on_the_wrong_key_are_refused_with_both_columns_named(households, municipalities):
    offers = pd.DataFrame(
        {"address_id": ["0149", "0149", "0150"], "down_mbps": [1000.0] * 3, "up_mbps": [1e3] * 3}
    )
    offers.attrs.update(source="bbk.csv", id_column="vejkode")
    households = households.copy()
    households.attrs["id_column"] = "adgangsadresse_id"
    with pytest.raises(OfferMatchError) as info:
        classify_households(households, municipalities, STANDARD, fixed_offers=offers)
    message = str(info.value)
    assert "'vejkode'" in message and "'adgangsadresse_id'" in message
    assert "0 of 12 addresses (0.0%)" in message
    assert "'0149', '0150'" in message  # distinct examples from the offer side
    assert "'h1', 'h2'" in message  # and from the household side
    # lowered on purpose, the same table is accepted and everyone is simply unserved
    result = classify_households(
        households, municipalities, STANDARD, fixed_offers=offers, min_match_share=0.0
    )
    assert not result["fixed_served"].any()


def test_match_share_is_reported(households, municipalities, offers):
    evidence = gather_evidence(households, municipalities, fixed_offers=offers)
    (match,) = evidence.offer_matches["fixed"]
    # h1 h2 h3 h5 h6 h7 h8 h9 h10 h12 have offers; h4 and h11 have none: 10 of 12
    assert (match.addresses_matched, match.addresses) == (10, 12)
    assert match.unmatched_rows == 1 and match.unmatched_ids == ("zz",)
    assert match.share == pytest.approx(10 / 12)


def test_wrong_key_on_the_real_sample_stops_the_run(shared_data, tmp_path, capsys):
    config = _real_config(tmp_path, shared_data, fixed_id="vejkode")
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err
    assert "matches 0 of 309 addresses" in err
    assert "'vejkode'" in err and "'adgangsadresse_id'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "municipalities.csv").exists()


# --- ids compared after one normalisation ----------------------------------------------


@pytest.mark.parametrize(
    ("offer_ids", "household_ids"),
    [
        ([" a1", "b2 "], ["a1", "b2"]),  # padding spaces
        (
            ["0A3F5081-10E6-32B8-E044-0003BA298018"],
            ["0a3f5081-10e6-32b8-e044-0003ba298018"],
        ),  # UUID case
        (["Ga\u030ardvej 1"], ["G\u00e5rdvej 1"]),  # NFD against NFC
        (["001", "2"], ["1", "02"]),  # zero padding, both sides numeric
    ],
)
def test_ids_match_after_normalisation_and_are_reported(offer_ids, household_ids):
    m = match_keys_normalized(pd.Series(offer_ids), pd.Series(household_ids))
    assert sorted(zip(m.rows.tolist(), m.positions.tolist(), strict=True)) == [
        (i, i) for i in range(len(offer_ids))
    ]
    assert m.normalized.tolist() == list(range(len(offer_ids)))


def test_numbers_are_not_compared_as_numbers_unless_both_sides_are_numeric():
    m = match_keys_normalized(pd.Series(["001"]), pd.Series(["1", "x"]))
    assert m.rows.size == 0


def test_normalised_matches_serve_and_warn(households, municipalities, offers):
    padded = offers.copy()
    padded["address_id"] = padded["address_id"] + "  "
    evidence = gather_evidence(households, municipalities, fixed_offers=padded)
    reference = gather_evidence(households, municipalities, fixed_offers=offers)
    np.testing.assert_array_equal(evidence.fixed_down_mbps, reference.fixed_down_mbps)
    (match,) = evidence.offer_matches["fixed"]
    assert match.normalized_rows == 12  # every row but the unknown "zz"
    assert any("only after normalisation" in p.message for p in evidence.problems)


def test_ids_that_collide_after_normalisation_are_left_out():
    m = match_keys_normalized(pd.Series(["a"]), pd.Series(["a ", " a"]))
    assert m.rows.size == 0 and m.ambiguous.tolist() == [0]


# --- 2. swapped axes, wrong CRS -----------------------------------------------------------


def test_swapped_axes_are_refused_with_a_diagnosis(households, municipalities, offers):
    shifted = households.copy()
    shifted["x"], shifted["y"] = households["x"] + 700_000, households["y"] + 6_100_000
    swapped = shifted.rename(columns={"x": "y", "y": "x"})
    moved = municipalities.translate(700_000, 6_100_000)
    world = municipalities.set_geometry(moved)
    with pytest.raises(AssignmentError, match="x and y look swapped"):
        classify_households(swapped, world, STANDARD, fixed_offers=offers)
    with pytest.raises(AssignmentError, match="another CRS"):
        classify_households(households, world, STANDARD, fixed_offers=offers)


def test_swapped_columns_in_a_config_stop_the_run(world_files, tmp_path, capsys):
    text = world_files.read_text().replace(
        'crs = "EPSG:25832"', 'crs = "EPSG:25832"\nx = "y"\ny = "x"'
    )
    # the world is symmetric enough that swapping keeps most points inside: move it
    frame = pd.read_csv(world_files.parent / "households.csv")
    frame["y"] += 10_000
    frame.to_csv(world_files.parent / "households.csv", index=False)
    world_files.write_text(text)
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err
    assert "lie in or near a municipality" in err and "Traceback" not in err


# --- 3. decimal commas in coordinates ------------------------------------------------------


def test_decimal_comma_coordinates_are_read(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text('id;x;y\n"a";"705704,5";"6162624,27"\n"b";705794,83;6162639,79\n')
    table = read_households(path, id="id", crs="EPSG:25832")
    assert table["x"].tolist() == [705704.5, 705794.83]
    assert table["y"].tolist() == [6162624.27, 6162639.79]


def test_text_in_a_coordinate_column_is_an_error(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,x,y\na,705704.5,6162624.2\nb,n/a,6162639.7\n")
    with pytest.raises(InputError) as info:
        read_households(path, id="id", crs="EPSG:25832")
    problem = info.value.problems[0]
    assert problem.column == "x" and problem.rows == (3,) and "'n/a'" in problem.message


def test_declared_decimal_that_contradicts_the_file_is_an_error(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id;down;up\na;99.9;10\n")
    with pytest.raises(InputError, match=r"'99\.9'"):
        read_offers(path, id="id", download="down", upload="up", decimal=",")
    assert read_offers(path, id="id", download="down", upload="up")["down_mbps"].tolist() == [99.9]


# --- 4. partial data --------------------------------------------------------------------------


def test_partial_data_is_flagged_in_table_summary_and_manifest(world_files, tmp_path, capsys):
    frame = pd.read_csv(world_files.parent / "households.csv")
    frame[frame["x"] < 1400].to_csv(world_files.parent / "households.csv", index=False)
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    table = pd.read_csv(out / "municipalities.csv", dtype={"municipality_code": str})
    table = table.set_index("municipality_code")
    assert table.loc["0002", "households"] == 0
    assert np.isnan(table.loc["0002", "underserved_share"])  # no data, never 0 %
    assert table.loc["region", ["municipalities", "municipalities_with_data"]].tolist() == [2, 1]
    assert "only 1 of 2 municipalities" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["checks"]["municipalities_with_data"] == 1
    assert any("only 1 of 2 municipalities" in w["message"] for w in manifest["warnings"])


# --- 5. missing upload figures -------------------------------------------------------------


def test_missing_upload_households_are_counted(households, municipalities, offers):
    result = classify_households(households, municipalities, STANDARD, fixed_offers=offers)
    table = summarize_gap(result, municipalities, Provenance(STANDARD))
    # only h3 (fixed wireless 100 Mbit/s, upload not stated; 1 household in 0002) changes
    assert result.loc[result["missing_upload_decides"], "address_id"].tolist() == ["h3"]
    assert table["missing_upload_households"].tolist() == [0, 1, 1]
    gigabit = classify_households(
        households, municipalities, ServiceStandard("g", 1000), fixed_offers=offers
    )
    assert not gigabit["missing_upload_decides"].any()  # no upload threshold, no sensitivity


def test_summary_mentions_missing_upload(world_files, tmp_path, capsys):
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 0
    assert '1 households would change status with missing_upload = "download_only"' in (
        capsys.readouterr().out
    )


# --- 6. a selection never steals neighbours' addresses -------------------------------------


def test_selection_assigns_against_every_polygon(households, municipalities, offers):
    near = households.iloc[:1].copy()
    near[["address_id", "x", "y"]] = ["inside_0001", 1400.0, 500.0]  # 100 m inside 0001
    table = pd.concat([households, near])
    chosen = municipalities.assign(selected=[False, True])  # report 0002 only
    result = classify_households(table, chosen, STANDARD, fixed_offers=offers)
    row = result[result["address_id"] == "inside_0001"].iloc[0]
    assert row["assignment"] == "outside_selection" and row["municipality_code"] == "0001"
    summary = summarize_gap(result, chosen, Provenance(STANDARD))
    assert summary.index.tolist() == ["0002", "region"]
    # 0002 keeps exactly its own households: h3 h5 h6 inside, h9 nearest (4 households)
    assert summary.loc["0002", "households"] == 4


def test_selection_is_counted_in_the_reconciliation(world_files, tmp_path):
    text = world_files.read_text().replace('name = "name"', 'name = "name"\ncodes = ["0002"]')
    world_files.write_text(text)
    results = run(load_config(world_files))
    rec = results.reconciliation
    # 0001 holds h1 h2 h4 h7 h8 h12: 6 addresses, 17 households
    assert rec.loc["outside_selection"].tolist() == [6, 17]
    assert rec.loc["total"].tolist() == [12, 23]
    assert results.municipalities.index.tolist() == ["0002", "region"]


# --- 8. infinite speeds, implausible counts, NaN tolerance ---------------------------------


def test_infinite_speeds_are_refused(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id,down,up\na,inf,10\n")
    with pytest.raises(InputError, match=r"infinite speeds|does not fit"):
        read_offers(path, id="id", download="down", upload="up")


def test_nan_tolerance_is_refused(households, municipalities):
    with pytest.raises(ConfigError, match="tolerance_m"):
        classify_households(households, municipalities, STANDARD, tolerance_m=float("nan"))


# --- 9. the code "region" is reserved --------------------------------------------------------


def test_municipality_coded_region_is_refused(households, municipalities, world_files):
    from coverage_gap.validate import validate_municipalities

    clash = municipalities.assign(municipality_code=["region", "0002"])
    _, problems = validate_municipalities(clash, source="m.gpkg")
    assert any("reserved" in p.message for p in problems)


# --- 11. several rows per code in the API -----------------------------------------------------


def test_boundaries_with_one_row_per_part_work_in_the_api(households, municipalities, offers):
    import shapely

    parts = municipalities.copy()
    left = parts.iloc[[0]].copy()
    left["geometry"] = [shapely.box(0, 0, 1500, 1500)]
    upper = parts.iloc[[0]].copy()
    upper["geometry"] = [shapely.box(0, 1500, 1500, 3000)]
    split = pd.concat([left, upper, parts.iloc[[1]]], ignore_index=True)
    result = classify_households(households, split, STANDARD, fixed_offers=offers)
    whole = classify_households(households, municipalities, STANDARD, fixed_offers=offers)
    pd.testing.assert_series_equal(result["underserved"], whole["underserved"])
    assert MunicipalityIndex.build(split).problems[0].message.startswith("several polygons")


# --- helpers ----------------------------------------------------------------------------------


def _real_config(tmp_path, shared, *, fixed_id="adgangsadresse_id"):
    sample = shared / "bbk26_sample"
    path = tmp_path / "real.toml"
    path.write_text(
        f"""
[meta]
area_name = "Region Sjælland"
data_year = 2026
denominator = "dwellings"
source = "Digitaliseringsstyrelsen, Bredbåndskortlægning 2026"
[households]
path = "{sample / "dar_x_bbk26_adresser_25832.geojson"}"
id = "adgangsadresse_id"
households = "n_enhedsadresser"
municipality = "kommunekode"
[municipalities]
path = "{shared / "dagi_kommuner" / "kommuner_region_sjaelland_25832.geojson"}"
kind = "dagi"
region = "sjaelland"
[fixed]
path = "{sample / "dar_x_bbk26_adresser_25832.csv"}"
id = "{fixed_id}"
[fixed.technologies]
fiber = ["download_fiber", "upload_fiber"]
cable_tv = ["download_kabel_tv", "upload_kabel_tv"]
xdsl = ["download_xdsl"]
fixed_wireless = ["download_fasttraadloest"]
[standard]
preset = "100/30"
""",
        encoding="utf-8",
    )
    return path


def test_the_real_sample_runs_and_says_it_is_partial(shared_data, tmp_path, capsys):
    config = _real_config(tmp_path, shared_data)
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "only 4 of 17 municipalities" in out
    assert "309 of 309 addresses (100.0%) found at least one offer row" in out


def test_match_offers_default_guard(households):
    offers = pd.DataFrame({"address_id": ["h1"], "down_mbps": [1.0], "up_mbps": [1.0]})
    with pytest.raises(OfferMatchError):
        match_offers(offers, households)
    assert match_offers(offers, households, min_match_share=0.05).matches[0].share == 1 / 12


def test_dk_preset_unchanged():
    assert (DK_100_30.fixed_down_mbps, DK_100_30.fixed_up_mbps) == (100, 30)
