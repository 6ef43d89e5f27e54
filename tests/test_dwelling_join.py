"""Dwellings per address from BBR unit extracts and DAWA unit-address files (sweep 2, D1).

Also the DAWA reader on Windows (cp1252) files (D12), a missing layer (D16) and the
configured id column in duplicate-id errors (D17). Every expected value is worked out by
hand from the tiny files written here.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gap.cli import main
from coverage_gap.danish import count_bbr_dwellings, read_bbk, read_dagi, read_dawa_addresses
from coverage_gap.danish.dwellings import DEFAULT_MIN_DWELLING_MATCH_SHARE
from coverage_gap.errors import InputError, SchemaError
from coverage_gap.evidence import DEFAULT_MIN_MATCH_SHARE
from coverage_gap.io import read_households, read_municipalities
from coverage_gap.validate import validate_households

from .conftest import SHARED


def _uuid(n: int) -> str:
    return f"0a3f5081-10e6-32b8-e044-0003ba29{n:04d}"


U1, U2, U3, U4 = (_uuid(n) for n in (1, 2, 3, 4))
BBK_HEADER = (
    "adgadr_id;vejnavn;husnr;postnr;kommunenavn;etrs89koordinat_oest;etrs89koordinat_nord;"
    "download_fiber;upload_fiber;download_xdsl;upload_xdsl"
)
BBK_ROWS = [
    f'"{U1}";"Køgevej";"1";4000;"Roskilde";"690500";"6170500";"1000";"1000";;',  # served
    f'"{U2}";"Søvej";"2";4000;"Roskilde";"690600";"6170600";;;"50";"10"',  # not 100/30
    f'"{U3}";"Åvej";"3";4000;"Roskilde";"690700";"6170700";;;;',  # nothing offered
    f'"{U4}";"Byvej";"4";4100;"Ringsted";"691500";"6170500";"1000";"1000";;',  # served
]
# U1: 2 flats; U2: 1 house and a shop (321); U3: only a business unit (matched, 0
# dwellings); U4: 3 farmhouses; one unit of an address outside the BBK file.
BBR_ROWS = [
    (U1, "140"),
    (U1, "140"),
    (U2, "120"),
    (U2, "321"),
    (U3, "321"),
    (U4, "110"),
    (U4, "110"),
    (U4, "110"),
    (_uuid(99), "140"),
]
DWELLINGS = [2, 1, 0, 3]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _bbk(tmp_path: Path) -> Path:
    return _write(tmp_path / "bbk.csv", "\n".join([BBK_HEADER, *BBK_ROWS]) + "\n")


def _bbr(tmp_path: Path, rows=BBR_ROWS, *, upper=lambda i: False, name="bbr.csv") -> Path:
    lines = ["adresseIdentificerer,enh020EnhedensAnvendelse"]
    lines += [f"{a.upper() if upper(i) else a},{code}" for i, (a, code) in enumerate(rows)]
    return _write(tmp_path / name, "\n".join(lines) + "\n")


def test_default_threshold_is_the_offer_guards():
    assert DEFAULT_MIN_DWELLING_MATCH_SHARE == DEFAULT_MIN_MATCH_SHARE == 0.5


def test_bbr_dwellings_by_hand(tmp_path):
    data = read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path))
    assert data.households["address_id"].tolist() == [U1, U2, U3, U4]
    assert data.households["households"].tolist() == DWELLINGS
    record = data.households.attrs["dwelling_match"]
    assert (record["addresses"], record["addresses_matched"], record["dwellings"]) == (4, 4, 6)
    assert (record["rows"], record["rows_unmatched"], record["addresses_normalized"]) == (9, 1, 0)
    assert record["id_column"] == "adresseIdentificerer"
    assert record["address_id_column"] == "adgadr_id"
    assert data.household_problems == ()


@pytest.mark.parametrize(
    "upper",
    [lambda i: i % 2 == 0, lambda i: True],
    ids=["half_upper_case_K22", "all_upper_case_K21"],
)
def test_bbr_upper_case_uuids_count_as_lower_case(tmp_path, upper):
    lower = read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path)).households
    mixed = read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, upper=upper, name="up.csv"))
    assert mixed.households["households"].tolist() == lower["households"].tolist() == DWELLINGS
    record = mixed.households.attrs["dwelling_match"]
    assert record["addresses_matched"] == 4 and record["dwellings"] == 6
    # Rows written in upper case (of the 8 rows of the four addresses): half = 0, 2, 4, 6.
    expected_rows = 4 if upper(1) is False else 8
    assert record["rows_normalized"] == expected_rows
    (warning,) = mixed.household_problems
    assert warning.severity == "warning" and "normalisation" in warning.message
    assert warning.rows[0] == U1.upper() and warning.count == expected_rows


def test_bbr_use_codes_after_excel_are_whole_numbers(tmp_path):
    rows = [(a, f"{code}.0") for a, code in BBR_ROWS]
    data = read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, rows))
    assert data.households["households"].tolist() == DWELLINGS
    assert count_bbr_dwellings(_bbr(tmp_path, rows)).to_dict() == {
        U1: 2,
        U2: 1,
        U4: 3,
        _uuid(99): 1,
    }


def test_bbr_fractional_use_code_is_an_error_naming_column_and_lines(tmp_path):
    rows = [*BBR_ROWS[:3], (U3, "140.5"), *BBR_ROWS[4:6], (U4, "Helårsbolig")]
    with pytest.raises(SchemaError) as info:
        read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, rows))
    (problem,) = info.value.problems
    assert problem.column == "enh020EnhedensAnvendelse"
    assert problem.source == str(tmp_path / "bbr.csv")
    # header = line 1: the 4th and 7th units are lines 5 and 8
    assert problem.rows == (5, 8) and problem.lines and problem.count == 2
    assert "140.5" in problem.message


def test_bbr_keyed_on_another_id_is_refused_naming_both_files(tmp_path):
    rows = [(_uuid(100 + i), "140") for i in range(6)]
    with pytest.raises(InputError) as info:
        read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, rows))
    text = str(info.value)
    (problem,) = info.value.problems
    assert problem.source == str(tmp_path / "bbr.csv") and str(tmp_path / "bbk.csv") in text
    assert "'adresseIdentificerer'" in text and "'adgadr_id'" in text
    assert "only 0 of 4 addresses (0.0%)" in text
    assert _uuid(100) in text and U1 in text  # an id from each side


def test_share_threshold_is_a_reader_option(tmp_path):
    # One of the four addresses (25 %) found a row: refused at 50 %, kept at 20 %.
    rows = [(U4, "110"), (U4, "110"), *((_uuid(100 + i), "140") for i in range(5))]
    with pytest.raises(InputError, match=r"only 1 of 4 addresses \(25.0%\)"):
        read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, rows))
    data = read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, rows), min_dwelling_match_share=0.2)
    assert data.households["households"].tolist() == [0, 0, 0, 2]
    (warning,) = data.household_problems
    assert warning.count == 3 and warning.rows == (U1, U2, U3)
    assert "3 of 4 addresses (75.0%) have no row" in warning.message
    # A file that covers only part of the addresses (every row matched) is named so.
    with pytest.raises(InputError, match="covers only part of the addresses") as info:
        read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path, rows[:2], name="part.csv"))
    assert f"[{U1!r}, {U2!r}, {U3!r}]" in str(info.value)
    with pytest.raises(InputError, match="between 0 and 1"):
        read_bbk(_bbk(tmp_path), dwellings=_bbr(tmp_path), min_dwelling_match_share=50)


def _dawa(tmp_path: Path, ids=("a1", "a2", "a3", "a4")) -> Path:
    lines = ["id,kommunekode,x,y"]
    lines += [f"{a},0265,{690100 + 100 * i},6170500" for i, a in enumerate(ids)]
    return _write(tmp_path / "adgangsadresser.csv", "\n".join(lines) + "\n")


def _units(tmp_path: Path, refs, name="adresser.csv") -> Path:
    lines = ["id,adgangsadresseid", *(f"u{i},{r}" for i, r in enumerate(refs))]
    return _write(tmp_path / name, "\n".join(lines) + "\n")


def test_dawa_units_half_upper_case_count_as_lower_case_K24(tmp_path):
    ids = (U1, U2, U3, U4)
    # U1: 3 units, U2: 1, U3: none (0 dwellings), U4: 2.
    refs = [U1, U1, U1, U2, U4, U4]
    addresses = _dawa(tmp_path, ids)
    lower = read_dawa_addresses(addresses, units=_units(tmp_path, refs))
    half = [r.upper() if i % 2 else r for i, r in enumerate(refs)]
    mixed = read_dawa_addresses(addresses, units=_units(tmp_path, half, "half.csv"))
    assert lower["households"].tolist() == mixed["households"].tolist() == [3, 1, 0, 2]
    record = mixed.attrs["dwelling_match"]
    assert (record["addresses_matched"], record["rows_normalized"], record["share"]) == (
        3,
        3,
        0.75,
    )
    messages = [p.message for p in mixed.attrs["problems"]]
    assert any("1 of 4 addresses (25.0%) have no row" in m for m in messages)
    assert any("only after id normalisation" in m for m in messages)


def test_dawa_units_leading_zeros_when_both_sides_are_digits(tmp_path):
    addresses = _dawa(tmp_path, ("7", "12", "300", "4"))
    out = read_dawa_addresses(addresses, units=_units(tmp_path, ["007", "7", "0012", "4"]))
    assert out["households"].tolist() == [2, 1, 0, 1]


def test_dawa_units_on_the_wrong_column_are_refused(tmp_path):
    addresses = _dawa(tmp_path)
    units = _units(tmp_path, ["a1", "a1", "a2"])
    with pytest.raises(InputError) as info:
        read_dawa_addresses(addresses, units=units, unit_reference="id")
    text = str(info.value)
    assert str(units) in text and str(addresses) in text
    assert "column 'id'" in text and "only 0 of 4 addresses (0.0%)" in text
    assert "'u0'" in text and "'a1'" in text


def test_run_counts_dwellings_and_reports_the_join(tmp_path, capsys):
    _bbk(tmp_path)
    _bbr(tmp_path, upper=lambda i: i % 2 == 0)
    gpd.GeoDataFrame(
        {"kode": ["0265", "0329"], "navn": ["Roskilde", "Ringsted"]},
        geometry=[
            shapely.box(690000, 6170000, 691000, 6171000),
            shapely.box(691000, 6170000, 692000, 6171000),
        ],
        crs="EPSG:25832",
    ).to_file(tmp_path / "kommuner.gpkg", layer="kommuner")
    config = """
[meta]
denominator = "dwellings"
data_year = 2026
source = "test"
[households]
path = "bbk.csv"
kind = "bbk"
dwellings = "{dwellings}"
[municipalities]
path = "kommuner.gpkg"
kind = "dagi"
[standard]
preset = "100/30"
"""
    (tmp_path / "run.toml").write_text(config.format(dwellings="bbr.csv"), encoding="utf-8")
    assert main(["run", str(tmp_path / "run.toml"), "--out", str(tmp_path / "out")]) == 0
    assert "only after id normalisation (white space" in capsys.readouterr().err
    table = pd.read_csv(
        tmp_path / "out" / "municipalities.csv", dtype={"municipality_code": str}
    ).set_index("municipality_code")
    # Roskilde: U1 2 served, U2 1 not 100/30, U3 0 dwellings; Ringsted: U4 3 served.
    assert table.loc["0265", ["addresses", "households", "underserved_households"]].tolist() == [
        3,
        3,
        1,
    ]
    assert table.loc["0329", ["households", "underserved_households"]].tolist() == [3, 0]
    # A BBR file of other addresses: exit 4 (input), nothing written.
    _bbr(tmp_path, [(_uuid(100 + i), "140") for i in range(4)], name="other.csv")
    (tmp_path / "bad.toml").write_text(config.format(dwellings="other.csv"), encoding="utf-8")
    assert main(["run", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "bad")]) == 4
    err = capsys.readouterr().err
    assert "other.csv" in err and "bbk.csv" in err and "only 0 of 4 addresses" in err
    assert not (tmp_path / "bad" / "municipalities.csv").exists()


# D12: a DAR/DAWA file saved by Danish Excel (cp1252, ";" and decimal commas).
def test_dawa_reads_a_windows_cp1252_file(tmp_path):
    text = (
        "adgangsadresse_id;kommunekode;vejnavn;husnr;postnr;x;y\n"
        f"{U1};0253;Rørhaven;50;2690;705704,5;6162624,27\n"
        f"{U2};0253;Ærøvej;2;2690;705800;6162700\n"
    )
    path = _write(tmp_path / "dar.csv", text, "cp1252")
    out = read_dawa_addresses(path, id=["postnr", "vejnavn", "husnr"])
    assert out["address_id"].tolist() == ["2690|Rørhaven|50", "2690|Ærøvej|2"]
    assert out["x"].tolist() == [705704.5, 705800.0]


def test_dawa_latin1_after_a_plain_ascii_first_mebibyte(tmp_path):
    rows = [f"a{i},0253,Vej,{i},2690,700000,6160000" for i in range(40_000)]
    rows.append("z,0253,Søvej,1,2690,700000,6160000")
    text = "id,kommunekode,vejnavn,husnr,postnr,x,y\n" + "\n".join(rows) + "\n"
    path = _write(tmp_path / "dar.csv", text, "latin-1")
    assert path.stat().st_size > 1 << 20 and text[: 1 << 20].isascii()
    out = read_dawa_addresses(path, id=["postnr", "vejnavn", "husnr"])
    assert len(out) == 40_001 and out["address_id"].iloc[-1] == "2690|Søvej|1"


def test_household_csv_in_cp1252_with_an_address_key(tmp_path):
    text = "postnr;vejnavn;husnr;x;y\n2690;Rørhaven;50;705704,5;6162624\n2690;Ærøvej;2;1;2\n"
    path = _write(tmp_path / "h.csv", text, "cp1252")
    table = read_households(path, id=["postnr", "vejnavn", "husnr"], crs="EPSG:25832")
    assert table["address_id"].tolist() == ["2690|Rørhaven|50", "2690|Ærøvej|2"]
    assert table["x"].tolist() == [705704.5, 1.0]


# D16: a layer the file lacks.
def test_missing_layer_lists_the_layers(tmp_path):
    path = tmp_path / "k.gpkg"
    gpd.GeoDataFrame(
        {"kode": ["0253"], "navn": ["Greve"]},
        geometry=[shapely.box(7e5, 6.16e6, 7.1e5, 6.17e6)],
        crs="EPSG:25832",
    ).to_file(path, layer="kommuner")
    for read in (
        lambda layer: read_municipalities(path, code="kode", name="navn", layer=layer),
        lambda layer: read_dagi(path, layer=layer),
    ):
        with pytest.raises(InputError, match=r"layers in the file: \['kommuner'\]"):
            read("regioner")
        with pytest.raises(InputError, match='write layer = "kommuner"'):
            read("Kommuner")
        with pytest.raises(InputError, match="no layer number 3"):
            read(3)
        assert read("kommuner")["municipality_code"].tolist() == ["0253"]


# D17: duplicate ids name the column the user configured.
def test_duplicate_ids_name_the_configured_column(tmp_path):
    path = _write(
        tmp_path / "h.csv",
        "adr,postnr,x,y\na,2690,700000,6100000\nb,2690,700010,6100000\nc,4130,700020,6100000\n",
    )
    table = read_households(path, id="postnr", crs="EPSG:25832")
    _, problems = validate_households(table, source=str(path))
    (problem,) = problems
    assert problem.column == "postnr" and problem.count == 2 and problem.rows == ("2690",)
    assert "is 'postnr' the address id?" in problem.fix
    # the canonical name when the table does not say
    table.attrs.pop("id_column")
    assert validate_households(table, source=str(path))[1][0].column == "address_id"


@pytest.mark.skipif(not SHARED.exists(), reason="needs /work/shared/data")
def test_real_dar_sample_with_half_upper_case_units(tmp_path):
    """Units generated from the sample's own n_enhedsadresser: the join must give them back."""
    sample = SHARED / "dar_adresser_sample" / "dar_adgangsadresser_sample_25832.csv"
    frame = pd.read_csv(sample, dtype={"adgangsadresse_id": str})
    refs = np.repeat(frame["adgangsadresse_id"].to_numpy(), frame["n_enhedsadresser"].to_numpy())
    refs = np.array([r.upper() if i % 2 else r for i, r in enumerate(refs)], dtype=object)
    units = _units(tmp_path, refs)
    counted = read_dawa_addresses(sample, units=units, x="x", y="y")
    stated = read_dawa_addresses(sample, households="n_enhedsadresser", x="x", y="y")
    assert counted["households"].tolist() == stated["households"].tolist()
    assert len(refs) == 2800  # the sample's README: 2,800 unit addresses in total
    record = counted.attrs["dwelling_match"]
    assert record["addresses_matched"] == int((stated["households"] > 0).sum())
