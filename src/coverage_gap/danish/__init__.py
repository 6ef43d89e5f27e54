"""Danish data and rules, in one place.

- readers of the files as published: :func:`read_bbk` (Bredbåndskortlægning),
  :func:`read_dawa_addresses` (DAWA/DAR), :func:`count_unit_addresses`,
  :func:`count_bbr_dwellings` (BBR), :func:`read_dagi` (municipality boundaries);
- the region: :data:`REGION_SJAELLAND` (codes, names, population, main towns);
- presets: :data:`DK_100_30` (the national goal), :data:`MOBILE_30_3` (the mobile
  obligations);
- the broadband pool (Bredbåndspuljen) under each year's rules: :func:`assess_pool` and
  :mod:`coverage_gap.danish.pool`; :func:`subsidy_pool_status`;
  :func:`compare_denominators`;
- the growth of Danish mobile data use: :func:`danish_mobile_growth`,
  :func:`fit_danish_mobile_growth`.

Names are imported on first use, so that ``coverage_gap.standards`` can register the
Danish presets without loading the readers.
"""

from __future__ import annotations

from .._lazy import lazy_names

_LAZY = {
    "BbkData": ".readers",
    "read_bbk": ".readers",
    "read_dawa_addresses": ".readers",
    "count_unit_addresses": ".readers",
    "count_bbr_dwellings": ".readers",
    "read_dagi": ".readers",
    "REGION_SJAELLAND": ".region",
    "Municipality": ".region",
    "Region": ".region",
    "DK_100_30": ".presets",
    "MOBILE_30_3": ".presets",
    "assess_pool": ".pool",
    "PoolSpec": ".pool",
    "PoolRuleSet": ".pool",
    "PoolResult": ".pool",
    "POOL_RULES": ".pool",
    "subsidy_pool_status": ".rules",
    "compare_denominators": ".rules",
    "danish_mobile_growth": ".growth",
    "fit_danish_mobile_growth": ".growth",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_names(__name__, _LAZY, lambda: dict(globals()))
