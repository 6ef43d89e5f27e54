"""Canonical column names and the working CRS.

Every frame that crosses a module boundary uses these names; units are part of the
name (``down_mbps``, ``distance_m``, ``signal_dbm``).

Household table (returned by :func:`coverage_gap.read_households`)
    ``address_id`` (string, unique), ``households`` (int64, >= 0), ``x`` and ``y``
    (float64, metres in the working CRS; NaN marks a row without a usable point),
    optionally ``declared_municipality_code`` (string). The CRS travels in
    ``frame.attrs["crs"]``; a :class:`geopandas.GeoDataFrame` of points is accepted
    wherever a household table is.

Municipality layer (:func:`coverage_gap.read_municipalities`)
    GeoDataFrame with ``municipality_code`` (4-character text, e.g. ``"0253"``),
    ``municipality_name`` and polygon ``geometry``; one row per code; optionally
    ``selected`` (bool): the municipalities to report (all when absent). The code
    ``"region"`` is reserved for the row of the whole area.

Offers (:func:`coverage_gap.read_offers`)
    ``address_id``, ``down_mbps``, ``up_mbps`` (float64; NaN upload = not stated; NaN
    download = the address is listed but nothing is offered on that row), optionally
    ``technology``; several rows per address allowed.

Per-household result (:func:`coverage_gap.classify_households`)
    The household columns plus ``municipality_code``, ``assignment`` (one of
    :data:`ASSIGNMENTS`), ``distance_m``, ``fixed_down_mbps``, ``fixed_up_mbps``,
    ``fixed_served``, ``mobile_signal_dbm``, ``mobile_down_mbps``, ``mobile_up_mbps``,
    ``mobile_served``, ``underserved``, ``missing_upload_decides``.
"""

from __future__ import annotations

from typing import Final

WORKING_CRS: Final = "EPSG:25832"

ADDRESS_ID: Final = "address_id"
HOUSEHOLDS: Final = "households"
X: Final = "x"
Y: Final = "y"
DECLARED_MUNICIPALITY: Final = "declared_municipality_code"

MUNICIPALITY_CODE: Final = "municipality_code"
MUNICIPALITY_NAME: Final = "municipality_name"
#: Optional boolean column of a municipality layer: which municipalities a run reports.
#: Unselected polygons still place addresses, so that a neighbour's address is never
#: counted in a selected municipality.
SELECTED: Final = "selected"

DOWN: Final = "down_mbps"
UP: Final = "up_mbps"
TECHNOLOGY: Final = "technology"

ASSIGNMENT: Final = "assignment"
DISTANCE: Final = "distance_m"

#: How a household got (or did not get) its municipality: inside a polygon, nearest one
#: within the tolerance, in (or nearest to) a municipality that is not selected, no
#: municipality within the tolerance, or no usable point.
ASSIGNMENTS: Final = ("inside", "nearest", "outside_selection", "unassigned", "invalid")
#: Assignments counted in a municipality's figures.
COUNTED: Final = ("inside", "nearest")

# Per-household result columns (classify).
FIXED_DOWN: Final = "fixed_down_mbps"
FIXED_UP: Final = "fixed_up_mbps"
FIXED_SERVED: Final = "fixed_served"
MOBILE_SIGNAL: Final = "mobile_signal_dbm"
MOBILE_DOWN: Final = "mobile_down_mbps"
MOBILE_UP: Final = "mobile_up_mbps"
MOBILE_SERVED: Final = "mobile_served"
UNDERSERVED: Final = "underserved"
#: Per household: whether its status would change under the other ``missing_upload`` rule.
MISSING_UPLOAD_DECIDES: Final = "missing_upload_decides"

REGION_CODE: Final = "region"

#: Fewer households than this in a share's denominator make the share uncertain: figures
#: mark such municipalities "few" and keep their intervals off the axis range. (Area
#: tables have their own, privacy-minded rule: :data:`coverage_gap.areas.MIN_HOUSEHOLDS`.)
SMALL_COUNT: Final = 30
