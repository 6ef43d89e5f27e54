"""Danish formats (BBK, DAWA, BBR, DAGI), Danish rules, and fetching files."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gap import DK_100_30, GIGABIT, InputError, classify, gather_evidence
from coverage_gap.cli import main
from coverage_gap.danish import (
    REGION_SJAELLAND,
    compare_denominators,
    count_bbr_dwellings,
    read_bbk,
    read_dagi,
    read_dawa_addresses,
    subsidy_pool_status,
)
from coverage_gap.errors import SchemaError
from coverage_gap.fetch import FetchError, fetch
from coverage_gap.standards import BEAD_UNDERSERVED, BEAD_UNSERVED, ServiceStandard

HEADER = (
    "adgadr_id;vejnavn;husnr;postnr;kommunenavn;etrs89koordinat_oest;etrs89koordinat_nord;"
    "download_fasttraadloest;upload_fasttraadloest;download_fiber;upload_fiber;"
    "download_kabel_tv;upload_kabel_tv;download_xdsl;upload_xdsl;download_mobil;upload_mobil"
)
ROWS = [
    # fibre 1000/1000, mobile 600/30
    '"a1";"Køgevej";"1";4000;"Roskilde";"690500,5";"6170500,25";;;"1000";"1000";;;;;"600";"30"',
    # xDSL 50/10,24 and cable 0 (not offered): not 100/30
    '"a2";"Søvej";"2";4000;"Roskilde";"690600,5";"6170600";;;"0";"0";;;"50,000";"10,240";"200";"10"',
    # fixed wireless 100 without upload, in a municipality name the boundaries do not know
    '"a3";"Åvej";"3";4100;"Ringsted Kommune";"691500";"6170500";"100";;;;;;;;;',
]


def _bbk(tmp_path: Path, rows=ROWS, *, encoding="utf-8", bom=False, header=HEADER) -> Path:
    path = tmp_path / "bbk.csv"
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


@pytest.fixture
def boundaries():
    return gpd.GeoDataFrame(
        {"municipality_code": ["0265", "0329"], "municipality_name": ["Roskilde", "Ringsted"]},
        geometry=[
            shapely.box(690000, 6170000, 691000, 6171000),
            shapely.box(691000, 6170000, 692000, 6171000),
        ],
        crs="EPSG:25832",
    )


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("latin-1", False)]
)
def test_bbk_layout_and_encodings(tmp_path, boundaries, encoding, bom):
    data = read_bbk(_bbk(tmp_path, encoding=encoding, bom=bom), municipalities=boundaries)
    h = data.households
    assert h["address_id"].tolist() == ["a1", "a2", "a3"]
    assert h["x"].tolist() == [690500.5, 690600.5, 691500.0]
    assert h["y"].tolist() == [6170500.25, 6170600.0, 6170500.0]
    assert h["declared_municipality_code"].tolist() == ["0265", "0265", "0329"]
    offers = data.offers.assign(technology=lambda f: f["technology"].astype(str))
    expected = pd.DataFrame(
        [
            ["a1", "fiber", 1000.0, 1000.0],
            ["a2", "xdsl", 50.0, 10.24],
            ["a3", "fixed_wireless", 100.0, np.nan],
            ["a1", "mobile", 600.0, 30.0],
            ["a2", "mobile", 200.0, 10.0],
        ],
        columns=["address_id", "technology", "down_mbps", "up_mbps"],
    )
    pd.testing.assert_frame_equal(
        offers.astype({"address_id": object}), expected, check_dtype=False
    )
    served = fixed_served(h, DK_100_30, data.fixed_offers)
    assert served.tolist() == [True, False, False]
    lenient = ServiceStandard(
        "x", fixed_down_mbps=100, fixed_up_mbps=30, missing_upload="download_only"
    )
    assert fixed_served(h, lenient, data.fixed_offers).tolist() == [
        True,
        False,
        True,
    ]


def test_bbk_unknown_municipality_name_is_reported(tmp_path):
    only_roskilde = pd.DataFrame({"municipality_code": ["0265"], "municipality_name": ["Roskilde"]})
    data = read_bbk(_bbk(tmp_path), municipalities=only_roskilde)
    (problem,) = data.problems
    assert "Ringsted Kommune" in problem.message and problem.count == 1
    assert len(data.households) == 3  # reported, not dropped


def fixed_served(households, standard, offers):
    evidence = gather_evidence(households, None, fixed_offers=offers, min_match_share=0.0)
    return classify(evidence, standard)["fixed_served"]


def test_bbk_malformed_files(tmp_path):
    # a comma-separated extract is read like the official file; without rows it is empty
    with pytest.raises(InputError, match="no rows"):
        read_bbk(_bbk(tmp_path, header=HEADER.replace(";", ","), rows=[]))
    with pytest.raises(SchemaError) as info:
        read_bbk(_bbk(tmp_path, header=HEADER.replace("etrs89koordinat_nord", "nord")))
    assert info.value.problems[0].column == "etrs89koordinat_nord"
    bad = [*ROWS[:2], ROWS[2].replace('"100"', '"hurtig"')]
    with pytest.raises(InputError) as info:
        read_bbk(_bbk(tmp_path, rows=bad))
    problem = info.value.problems[0]
    assert problem.column == "download_fasttraadloest" and problem.rows == (4,)
    assert "hurtig" in problem.message and str(tmp_path / "bbk.csv") == problem.source


def test_run_with_bbk_and_dagi(tmp_path, boundaries, capsys):
    _bbk(tmp_path)
    boundaries.rename(columns={"municipality_code": "kode", "municipality_name": "navn"}).to_file(
        tmp_path / "kommuner.geojson"
    )
    (tmp_path / "units.csv").write_text("id,adgangsadresseid\nu1,a1\nu2,a1\nu3,a2\n")
    (tmp_path / "run.toml").write_text(
        """
[meta]
denominator = "dwellings"
data_year = 2026
source = "BBK test file"
[households]
path = "bbk.csv"
kind = "bbk"
dwellings = "units.csv"
[municipalities]
path = "kommuner.geojson"
kind = "dagi"
[standard]
preset = "100/30"
mobile_min_dbm = -105
mobile_down_mbps = 30
mobile_up_mbps = 3
underserved = "no_fixed_and_no_mobile"
""",
        encoding="utf-8",
    )
    assert main(["run", str(tmp_path / "run.toml"), "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(
        tmp_path / "out" / "municipalities.csv", dtype={"municipality_code": str}
    ).set_index("municipality_code")
    # a1: 2 dwellings, served; a2: 1 dwelling, no fixed 100/30, mobile 200/10 serves;
    # a3: 0 dwellings registered (a business address), no offer of either kind.
    assert table.loc[
        "0265", ["addresses", "households", "fixed_unserved_households", "underserved_households"]
    ].tolist() == [2, 3, 1, 0]
    assert table.loc["0329", ["addresses", "households"]].tolist() == [1, 0]


def test_dawa_accuracy_and_dwellings(tmp_path):
    (tmp_path / "a.csv").write_text(
        "id,kommunekode,postnr,etrs89koordinat_øst,etrs89koordinat_nord,nøjagtighed,zone\n"
        "a,253,2690,700000.5,6160000.5,A,Byzone\n"
        "b,0253,2690,700100,6160100,B,Landzone\n"
        "c,253,2690,,,U,Landzone\n",
        encoding="utf-8",
    )
    (tmp_path / "u.csv").write_text("id,adgangsadresseid\n1,a\n2,a\n3,a\n4,c\n")
    t = read_dawa_addresses(tmp_path / "a.csv", units=tmp_path / "u.csv")
    assert t["households"].tolist() == [3, 0, 1]
    assert t["accuracy"].tolist() == ["A", "B", "U"]
    assert t["x"].isna().tolist() == [False, False, True]  # U: counted as invalid later
    assert t["declared_municipality_code"].tolist() == ["0253"] * 3


def test_bbr_residential_codes_are_overridable(tmp_path):
    path = tmp_path / "enh.csv"
    path.write_text("adresseIdentificerer,enh020EnhedensAnvendelse\na,140\na,510\nb,510\n")
    assert count_bbr_dwellings(path).to_dict() == {"a": 1}
    with_holiday_homes = count_bbr_dwellings(path, residential_codes={"140", "510"})
    assert with_holiday_homes.to_dict() == {"a": 2, "b": 1}


@pytest.mark.parametrize(
    ("code", "name"), [("kode", "navn"), ("kommunekode", "navn"), ("KOMKODE", "KOMNAVN")]
)
def test_dagi_variants_and_region(tmp_path, code, name):
    codes = [*REGION_SJAELLAND.codes, "0101"]
    gdf = gpd.GeoDataFrame(
        {code: [int(c) for c in codes], name: [f"K{c}" for c in codes]},
        geometry=[
            shapely.box(600000 + i * 1000, 6.1e6, 600900 + i * 1000, 6.1e6 + 900)
            for i in range(len(codes))
        ],
        crs="EPSG:25832",
    )
    path = tmp_path / "k.gpkg"
    gdf.to_file(path)
    layer = read_dagi(path, region="sjaelland")
    assert layer.loc[layer["selected"], "municipality_code"].tolist() == list(
        REGION_SJAELLAND.codes
    )
    assert layer.loc[~layer["selected"], "municipality_code"].tolist() == ["0101"]
    with pytest.raises(SchemaError, match="not in the file"):
        read_dagi(path, codes=["0999"])


def test_bead_presets_and_subsidy_pool():
    h = pd.DataFrame(
        {
            "address_id": list("abcd"),
            "x": [0.0] * 4,
            "y": [0.0] * 4,
            "zone": ["Landzone", "Landzone", "Sommerhusområde", "Byzone"],
        }
    )
    h.attrs["crs"] = "EPSG:25832"
    o = pd.DataFrame(
        {
            "address_id": list("abcd"),
            "down_mbps": [24.0, 50.0, 20.0, 8.0],
            "up_mbps": [5.0, 20.0, np.nan, 1.0],
        }
    )
    assert fixed_served(h, BEAD_UNSERVED, o).tolist() == [
        False,
        True,
        False,
        False,
    ]
    assert fixed_served(h, BEAD_UNDERSERVED, o).tolist() == [
        False,
        False,
        False,
        False,
    ]
    # c: 20 down but no upload figure, so it cannot beat 2 up: eligible
    assert subsidy_pool_status(h, o).tolist() == [
        "not eligible (speed)",
        "not eligible (speed)",
        "eligible",
        "not eligible (zone)",
    ]


def test_denominators_side_by_side(households, municipalities, offers):
    from coverage_gap import Provenance, classify_households

    classified = classify_households(households, municipalities, DK_100_30, fixed_offers=offers)
    units = pd.Series({"h1": 1, "h2": 1, "h4": 1, "h7": 1, "h8": 1, "h12": 1})
    table = compare_denominators(
        classified,
        municipalities,
        Provenance(DK_100_30),
        {"addresses": "addresses", "households": "households", "dwellings": units},
    )
    # 0001: addresses h1 h2 h4 h7 h8 h12, not served h2 h4 h12
    assert table.loc["0001", ["addresses", "addresses_underserved"]].tolist() == [6, 3]
    assert table.loc["0001", ["households", "households_underserved"]].tolist() == [17, 10]
    assert table.loc["0001", ["dwellings", "dwellings_underserved"]].tolist() == [6, 3]
    assert table.loc["0002", "dwellings"] == 0


# --- fetch -----------------------------------------------------------------------------


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "bbk.csv").write_bytes(b"x" * 300_000 + b"end\n")

    def handler(*args, **kwargs):
        return _RangeHandler(*args, directory=str(root), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def test_fetch_resumes_and_records_checksums(server, tmp_path):
    import hashlib

    url, root = server
    content = (root / "bbk.csv").read_bytes()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bbk.csv.part").write_bytes(content[:1000])  # an interrupted download
    path = fetch(f"{url}/bbk.csv", cache, progress=False)
    assert path.read_bytes() == content
    records = json.loads((cache / "checksums.json").read_text())
    assert records["bbk.csv"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert not (cache / "bbk.csv.part").exists()
    (root / "bbk.csv").unlink()  # cached: no second download
    assert fetch(f"{url}/bbk.csv", cache, progress=False) == path


def test_fetch_checksum_mismatch_and_errors(server, tmp_path):
    url, _ = server
    with pytest.raises(FetchError, match="does not match"):
        fetch(f"{url}/bbk.csv", tmp_path / "c", sha256="0" * 64, progress=False)
    with pytest.raises(FetchError, match="404"):
        fetch(f"{url}/missing.csv", tmp_path / "c", progress=False)
    with pytest.raises(FetchError, match="offline"):
        fetch("http://127.0.0.1:9/none.csv", tmp_path / "c", progress=False, timeout=2)


def test_fetch_command(server, tmp_path, capsys):
    url, _ = server
    assert main(["fetch", f"{url}/bbk.csv", "--cache", str(tmp_path / "c"), "--no-progress"]) == 0
    assert (tmp_path / "c" / "bbk.csv").exists()
    assert main(["fetch", "http://127.0.0.1:9/x.csv", "--cache", str(tmp_path / "c")]) == 6
    assert "offline" in capsys.readouterr().err


# --- real samples (skipped without ../shared) ------------------------------------------


@pytest.mark.shared
def test_official_rows_parse(shared_data):
    data = read_bbk(shared_data / "bbk26_sample" / "bbk26_official_schema_3rows.csv")
    h = data.households
    assert h["x"].tolist() == pytest.approx([574730.16, 604132.98, 696268.07])
    assert h["municipality_name"].tolist() == ["Aarhus", "Syddjurs", "Solrød"]
    o = data.offers.assign(technology=lambda f: f["technology"].astype(str))
    row2 = o[o["address_id"] == "00d934c2-950b-49e6-a4c5-eab46c724da2"]
    assert sorted(map(tuple, row2[["technology", "down_mbps", "up_mbps"]].values.tolist())) == [
        ("cable_tv", 1000.0, 100.0),
        ("mobile", 600.0, 30.0),
        ("xdsl", 50.0, 10.24),
    ]
    row3 = o[o["address_id"] == "0001930f-1d1a-42d2-b168-8cd7ff830b87"]
    assert len(row3) == 4  # fixed wireless 100/100, fibre, cable and mobile


@pytest.mark.shared
@pytest.mark.parametrize(
    ("standard", "expected"),
    [
        (DK_100_30, {"2690": 190, "4130": 208, "4270": 71}),
        (GIGABIT, {"2690": 314, "4130": 271, "4270": 71}),
    ],
)
def test_postal_sample_reproduces_the_reference_shares(shared_data, tmp_path, standard, expected):
    from coverage_gap import read_offers

    path = shared_data / "bbk26_sample" / "bbk26_udbudt_private_postnr_2690_4130_4270.csv"
    raw = pd.read_csv(path, dtype=str)
    ids = raw["postnr"] + "|" + raw["vejnavn"] + "|" + raw["husnr"]
    addresses = pd.DataFrame({"address_id": ids, "households": 1, "x": np.nan, "y": np.nan})
    addresses.attrs["crs"] = "EPSG:25832"
    frame = raw.assign(address_id=ids)
    tmp = tmp_path / "keyed.csv"
    frame.to_csv(tmp, index=False)
    offers = read_offers(
        tmp,
        id="address_id",
        technologies={
            "fiber": ("download_fiber", "upload_fiber"),
            "cable_tv": ("download_kabel_tv", "upload_kabel_tv"),
            "xdsl": ("download_xdsl", None),
            "fixed_wireless": ("download_fasttraadloest", None),
        },
    )
    served = fixed_served(addresses, standard, offers)
    unserved = (~served).groupby(raw["postnr"]).sum().to_dict()
    assert unserved == expected
    assert raw.groupby("postnr").size().to_dict() == {"2690": 3779, "4130": 2849, "4270": 3254}
    if standard is DK_100_30:
        mobile = read_offers(
            tmp, id="address_id", technologies={"mobile": ("download_mobil", "upload_mobil")}
        )
        mobile_standard = ServiceStandard(
            "m", mobile_down_mbps=100, mobile_up_mbps=30, underserved="no_mobile"
        )
        evidence = gather_evidence(addresses, None, mobile_offers=mobile)
        m = classify(evidence, mobile_standard)["mobile_served"].to_numpy(bool)
        both = ~served.to_numpy() & ~m
        assert pd.Series(both).groupby(raw["postnr"]).sum().to_dict() == {
            "2690": 55,
            "4130": 182,
            "4270": 31,
        }


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_bbk_danish_letters_survive_both_encodings(tmp_path, encoding):
    row = ROWS[0].replace('"Roskilde"', '"Køge"')
    data = read_bbk(_bbk(tmp_path, rows=[row], encoding=encoding))
    assert data.households["municipality_name"].tolist() == ["Køge"]
