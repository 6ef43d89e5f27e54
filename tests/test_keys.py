"""Duplicate ids counted on the fixed-width (hashed) path agree with a plain count."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gap import keys
from coverage_gap.keys import duplicated_keys


def _expected(values: list[str | None], limit: int = 5) -> tuple[int, list[str]]:
    counts = Counter(v for v in values if v is not None)
    repeated = sorted(k for k, n in counts.items() if n > 1)
    return sum(counts[k] for k in repeated), repeated[:limit]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="ab-Åé", min_size=3, max_size=3), min_size=0, max_size=40),
    st.integers(min_value=1, max_value=4),
)
def test_fixed_width_keys_counted_like_by_hand(values, chunks):
    # Chunked like a Parquet read (several row groups); equal length in characters, and
    # the non-ASCII letters make byte lengths differ, so both paths are exercised.
    parts = np.array_split(np.array(values, dtype=object), chunks)
    array = pa.chunked_array([pa.array(list(p), type=pa.string()) for p in parts])
    assert duplicated_keys(array) == _expected(values)
    assert duplicated_keys(pd.Series(values, dtype=object)) == _expected(values)


def test_uuid_duplicates_across_row_groups():
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1000)]
    values = [*ids, ids[7], ids[500], ids[7]]
    array = pa.chunked_array([pa.array(values[:400]), pa.array(values[400:])])
    assert duplicated_keys(array) == (5, [ids[7], ids[500]])
    assert duplicated_keys(pa.array(ids)) == (0, [])


def test_hash_collisions_are_not_duplicates(monkeypatch):
    # Every key hashing alike: the exact text count must still find only the real ones.
    def same_hash(self):
        return np.zeros(sum(len(p) for p in self.parts), dtype=np.uint64)

    monkeypatch.setattr(keys._FixedWidth, "hashes", same_hash)
    assert duplicated_keys(pa.array(["aa", "bb", "cc", "bb"])) == (2, ["bb"])
    assert duplicated_keys(pa.array(["aa", "bb", "cc"])) == (0, [])


def test_hashes_differ_for_keys_differing_in_any_byte():
    base = b"0123456789abcdef0123456789abcdef0123"
    variants = [base] + [base[:i] + b"X" + base[i + 1 :] for i in range(len(base))]
    fixed = keys._FixedWidth.of(pa.array([v.decode() for v in variants]))
    assert fixed is not None and fixed.width == 36
    assert len(set(fixed.hashes().tolist())) == len(variants)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "dd", "e", None]), max_size=30),
    st.lists(st.sampled_from(["a", "b", "c", "dd", "e", "f"]), unique=True, max_size=6),
    st.integers(min_value=1, max_value=4),
)
def test_join_in_passes_matches_like_one_pass(offer_ids, index_ids, per_pass):
    # The join runs in passes over parts of the index keys at millions of keys; the
    # pairs found must not depend on it.
    expected = sorted(
        (row, index_ids.index(key)) for row, key in enumerate(offer_ids) if key in index_ids
    )
    original = keys._KEYS_PER_PASS
    try:
        keys._KEYS_PER_PASS = per_pass
        rows, positions = keys.match_keys(pd.Series(offer_ids), pd.Series(index_ids))
    finally:
        keys._KEYS_PER_PASS = original
    assert sorted(zip(rows.tolist(), positions.tolist(), strict=True)) == expected
