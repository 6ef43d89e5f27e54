"""Danish service standards: the national broadband goal and the mobile obligations.

They are registered with the other presets (:func:`coverage_gap.standards.get_standard`).
"""

from __future__ import annotations

from ..standards import ServiceStandard

DK_100_30: ServiceStandard = ServiceStandard("100/30", fixed_down_mbps=100, fixed_up_mbps=30)
"""Danish broadband goal: fixed ≥ 100 Mbit/s down and ≥ 30 Mbit/s up.

Offers without an upload figure (xDSL, fixed wireless in the BBK files) count as not
meeting 30 Mbit/s up (``missing_upload = "unserved"``): the goal is about a proven
upload, and the issue's ``missing_upload_households`` column shows what the other rule
would change.
"""

MOBILE_30_3: ServiceStandard = ServiceStandard(
    "mobile 30/3", mobile_down_mbps=30, mobile_up_mbps=3, underserved="no_mobile"
)
"""Danish mobile coverage obligations (2016, 2019 auctions): mobile ≥ 30/3 Mbit/s."""
