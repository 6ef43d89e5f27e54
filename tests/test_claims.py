"""The claim checker: every row of claims.csv equals a separate classify_households +
summarize_gap run under its specification; the grid, the band, the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coverage_gap as cg
from coverage_gap.claims import (
    NOT_APPLICABLE,
    Claim,
    ClaimGrid,
    Vintage,
    check_claim,
    parse_threshold,
)
from coverage_gap.errors import ConfigError
from coverage_gap.evidence import gather_evidence


@pytest.fixture
def vintage(households, municipalities, offers, rasters):
    evidence = gather_evidence(
        households, municipalities, fixed_offers=offers, mobile_rasters=rasters
    )
    provenance = cg.Provenance(
        cg.DK_100_30.with_rule("no_fixed", mobile_min_dbm=-105),
        "households",
        2026,
        "hand-made test world",
        "Test region",
    )
    return Vintage(evidence, municipalities, provenance)


def test_the_default_grid_on_a_year_with_mobile_evidence(vintage):
    check = check_claim(vintage, Claim(0.2))
    table = check.specifications
    # 5 thresholds x 2 rules; missing upload both ways except for 1000/any; 2 denominators
    assert check.total == (4 * 2 + 1) * 2 * 2 == 36
    assert list(table.index) == list(range(1, 37))
    assert set(table["denominator"]) == {"households", "addresses"}
    no_upload = table["fixed_up_mbps"].isna()
    assert (table.loc[no_upload, "missing_upload"] == NOT_APPLICABLE).all()
    assert set(table.loc[~no_upload, "missing_upload"]) == {"unserved", "download_only"}
    mobile = table["underserved"] == "no_fixed_and_no_mobile"
    assert (table.loc[mobile, "mobile_min_dbm"] == -105).all()
    assert table.loc[~mobile, "mobile_min_dbm"].isna().all()
    assert table["mobile_down_mbps"].isna().all()  # rasters only: no speed threshold
    assert len(check.municipalities) == 36 * 2
    assert check.notes == ()


@pytest.mark.parametrize(
    ("down", "up", "rule", "missing"),
    [
        (100, 30, "no_fixed", "unserved"),
        (100, 30, "no_fixed", "download_only"),
        (10, 1, "no_fixed_and_no_mobile", "unserved"),
        (1000, None, "no_fixed", "unserved"),
        (30, 5, "no_fixed_and_no_mobile", "download_only"),
    ],
)
def test_rows_equal_separate_runs(
    vintage, households, municipalities, offers, rasters, down, up, rule, missing
):
    check = check_claim(vintage, Claim(0.2, 0.05))
    table = check.specifications
    mask = (
        (table["fixed_down_mbps"] == down)
        & (table["fixed_up_mbps"].isna() if up is None else table["fixed_up_mbps"] == up)
        & (table["underserved"] == rule)
        & (table["missing_upload"] == (NOT_APPLICABLE if up is None else missing))
    )
    assert mask.sum() == 2  # households and addresses
    standard = cg.ServiceStandard(
        "x",
        fixed_down_mbps=down,
        fixed_up_mbps=up,
        mobile_min_dbm=-105 if rule != "no_fixed" else None,
        underserved=rule,
        missing_upload=missing,
    )
    for denominator, frame in (
        ("households", households),
        ("addresses", households.assign(households=1)),
    ):
        classified = cg.classify_households(
            frame, municipalities, standard, fixed_offers=offers, mobile_rasters=rasters
        )
        separate = cg.summarize_gap(
            classified, municipalities, cg.Provenance(standard, denominator, 2026)
        )
        row = table[mask & (table["denominator"] == denominator)].iloc[0]
        region = separate.loc["region"]
        assert row["households"] == region["households"]
        assert row["underserved_households"] == region["underserved_households"]
        assert row["region_share"] == region["underserved_share"]
        assert row["share_ci_low"] == region["share_ci_low"]
        assert row["share_ci_high"] == region["share_ci_high"]
        local = check.municipalities[check.municipalities["specification"] == row.name]
        local = local.set_index("municipality_code")
        for code in ("0001", "0002"):
            assert local.loc[code, "households"] == separate.loc[code, "households"]
            assert (
                local.loc[code, "underserved_households"]
                == separate.loc[code, "underserved_households"]
            )


def test_hand_checked_shares(vintage):
    # Counted: h1..h8 and h12 inside, h9 nearest (h10 unassigned, h11 invalid).
    # Households 1+2+1+3+1+1+4+2+1+5 = 21. Under 100/30, missing upload unserved: h2 (2),
    # h3 (1, upload missing), h4 (3, no offer), h6 (1, 99.9 down), h12 (5, 29.99 up) = 12.
    check = check_claim(vintage, Claim(0.5), grid=ClaimGrid(fixed=((100, 30),)))
    table = check.specifications.set_index(["underserved", "missing_upload", "denominator"])
    row = table.loc[("no_fixed", "unserved", "households")]
    assert (row["households"], row["underserved_households"]) == (21, 12)
    # addresses: h2, h3, h4, h6, h12 of 10 counted addresses
    row = table.loc[("no_fixed", "unserved", "addresses")]
    assert (row["households"], row["underserved_households"]) == (10, 5)
    assert row["claim_holds"]  # 0.5 exactly: the band's edges belong to it
    # download_only: h3 (fixed wireless 100/-) becomes served
    row = table.loc[("no_fixed", "download_only", "households")]
    assert row["underserved_households"] == 11


def test_a_year_without_mobile_evidence_leaves_the_mobile_rule_out(
    households, municipalities, offers
):
    evidence = gather_evidence(households, municipalities, fixed_offers=offers)
    vintage = Vintage(evidence, municipalities, cg.Provenance(cg.DK_100_30, data_year=2025))
    check = check_claim(vintage, Claim(0.2))
    assert set(check.specifications["underserved"]) == {"no_fixed"}
    assert check.total == 18
    assert "2025" in check.notes[0] and "no_fixed_and_no_mobile" in check.notes[0]


def test_denominators_the_data_do_not_allow_are_refused(households, municipalities, offers):
    ones = households.assign(households=1)
    ones.attrs = dict(households.attrs, households_column=None)
    evidence = gather_evidence(ones, municipalities, fixed_offers=offers)
    vintage = Vintage(evidence, municipalities, cg.Provenance(cg.DK_100_30, "dwellings", 2026))
    assert vintage.denominators() == ("addresses",)
    with pytest.raises(ConfigError, match=r"\[claim\] denominators: \['dwellings'\]"):
        check_claim(vintage, Claim(0.2), grid=ClaimGrid(denominators=("dwellings",)))


def test_several_years_and_a_year_filter(vintage):
    older = Vintage(
        vintage.evidence,
        vintage.municipalities,
        cg.Provenance(vintage.provenance.standard, "households", 2025, "older", "Test region"),
    )
    both = check_claim([vintage, older], Claim(0.2))
    assert both.total == 72
    assert list(dict.fromkeys(both.specifications["data_year"])) == ["2026", "2025"]
    only = check_claim([vintage, older], Claim(0.2), grid=ClaimGrid(data_years=(2025,)))
    assert set(only.specifications["data_year"]) == {"2025"} and only.total == 36
    with pytest.raises(ConfigError, match="data_years"):
        check_claim([vintage, older], Claim(0.2), grid=ClaimGrid(data_years=(2020,)))
    with pytest.raises(ConfigError, match="must differ"):
        check_claim([vintage, vintage], Claim(0.2))


def test_the_band_and_the_interval():
    claim = Claim(0.2, 0.02)
    assert claim.holds(np.array([0.18, 0.22, 0.1799, 0.2201, np.nan])).tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert (Claim(0.01, 0.05).low, Claim(0.99, 0.05).high) == (0.0, 1.0)
    for bad in (0, 1, -0.1, float("nan")):
        with pytest.raises(ConfigError):
            Claim(bad)
    with pytest.raises(ConfigError):
        Claim(0.2, -0.01)


def test_verdicts_say_which_choices_make_it_true(vintage):
    grid = ClaimGrid(fixed=((100, 30), (10, 1)), underserved=("no_fixed",))
    # households 21: 100/30 unserved 12/21 = 0.571; download_only 11/21 = 0.524;
    # addresses 5/10 and 4/10.
    check = check_claim(vintage, Claim(0.55, 0.03, "over half", "over halvdelen"), grid=grid)
    table = check.specifications
    holding = table[table["claim_holds"]]
    assert len(holding) == 2
    assert set(holding["denominator"]) == {"households"} and set(holding["fixed_down_mbps"]) == {
        100.0
    }
    text = check.verdict()
    assert text.startswith('The claim "over half" (55% ± 3 points, 52–58%) holds under 2 of 8')
    assert "all of them with the fixed threshold 100/30 Mbit/s and counting households." in text
    da = check.verdict("da")
    assert da.startswith('Påstanden "over halvdelen" (55 % ± 3 procentpoint, 52–58 %) holder')
    assert "alle med det faste hastighedskrav 100/30 Mbit/s og talt i husstande." in da
    none = check_claim(vintage, Claim(0.9), grid=grid)
    assert "holds under none of the 8 specifications" in none.verdict()
    every = check_claim(vintage, Claim(0.5, 0.5), grid=grid)
    assert "holds under all 8 specifications" in every.verdict()
    assert every.to_dict()["robustness"] == 1.0


def test_grid_and_threshold_parsing():
    assert parse_threshold(" 100/30 ") == (100.0, 30.0)
    assert parse_threshold("2,5/0,5") == (2.5, 0.5)
    with pytest.raises(ConfigError, match="not a threshold"):
        parse_threshold("100/fast")
    with pytest.raises(ConfigError, match="names a choice twice"):
        ClaimGrid(fixed=((100, 30), (100, 30)))
    with pytest.raises(ConfigError, match="missing_upload"):
        ClaimGrid(missing_upload=("maybe",))
    with pytest.raises(ConfigError, match="denominators"):
        ClaimGrid(denominators=("people",))


def test_the_check_reads_nothing_and_joins_nothing(vintage, monkeypatch):
    import coverage_gap.evidence as ev
    import coverage_gap.keys as keys

    def forbidden(*args, **kwargs):
        raise AssertionError("joined again")

    monkeypatch.setattr(keys, "match_keys", forbidden)
    monkeypatch.setattr(ev, "match_keys_normalized", forbidden)
    monkeypatch.setattr(ev, "gather_evidence", forbidden)
    check = check_claim(vintage, Claim(0.2))
    assert check.total == 36
    assert pd.api.types.is_bool_dtype(check.specifications["claim_holds"])


def test_the_claim_curve_says_when_only_some_municipalities_have_data(vintage):
    """A municipality without households in the data: the area's share covers only the
    others, and the curve's subtitle says so ("of the municipalities with data")."""
    import dataclasses

    from coverage_gap import plot

    check = check_claim(vintage, Claim(0.2))
    subtitle = plot.plot_claim_curve(check, ax=plot.new_axes(pyplot=False)).figure.texts[1]
    assert "municipalities with data" not in subtitle.get_text()
    rows = check.municipalities
    empty = rows.drop_duplicates("specification").assign(
        municipality_code="9999", municipality_name="Empty", households=0
    )
    partial = dataclasses.replace(check, municipalities=pd.concat([rows, empty]))
    for lang, words in (
        ("en", "Test region, only the 2 of 3 municipalities with data"),
        ("da", "Test region, kun de 2 af 3 kommuner med data"),
    ):
        fig = plot.plot_claim_curve(partial, ax=plot.new_axes(pyplot=False), lang=lang).figure
        assert fig.texts[1].get_text().endswith(words)
