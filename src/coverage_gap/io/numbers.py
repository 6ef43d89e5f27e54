"""Numbers written as text: one strict parser for speeds, coordinates and counts.

Danish files write ``50,5`` for 50.5 and may group thousands as ``1.000,25``; other
files write ``50.5``. A lenient parser turns the wrong guess into a wrong number
(``99.9`` read with a decimal comma becomes 999) or into NaN (a coordinate that
silently makes an address "invalid"). Here every non-empty cell must be a number in
the column's one decimal convention, or the reader stops with an error that shows an
example value, the column and the file lines.

Rules (:func:`parse_numbers`):

- ``decimal="."``: ``-12.5``, ``1e3``; a comma anywhere is an error.
- ``decimal=","``: ``-12,5``; dots only as thousands separators in groups of three
  (``1.000,25``); ``99.9`` is an error.
- ``decimal=None`` (detect): ``","`` when the column has commas and no dots (or only
  Danish grouped forms), ``"."`` otherwise; a column that mixes both forms is an error,
  and so is one whose every dotted value looks like Danish thousands grouping
  (``2.500``, ``1.000``: 2.5 and 1.0, or 2,500 and 1,000?) — declare the decimal mark.
- Empty cells (after trimming) are missing (NaN); ``inf``/``nan`` written as text are
  errors (a speed of ``inf`` must not count as served), also when a CSV reader has
  already turned ``NaN`` into a floating-point NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from ..errors import InputError, Problem

_PLAIN_DOT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_PLAIN_COMMA = r"^[+-]?([0-9]+,?[0-9]*|,[0-9]+)$"
_GROUPED_COMMA = r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?$"
_GROUPED_ONLY = r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+$"
#: File lines of the first data row (the header is line 1).
_FIRST_LINE = 2


def _text(values: pa.Array | pa.ChunkedArray | pd.Series) -> pa.Array:
    if isinstance(values, pd.Series):
        values = pa.array(values, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values


def detect_decimal(values: pa.Array | pd.Series) -> str | None:
    """Return ``","`` or ``"."`` for a text column, or None when it cannot be told.

    None: the column mixes both forms, or every dotted value is in the grouped form
    ``2.500`` (Danish thousands, or three decimals?).

    Examples
    --------
    >>> detect_decimal(pd.Series(["50,5", "100"])), detect_decimal(pd.Series(["1.000,5"]))
    (',', ',')
    >>> detect_decimal(pd.Series(["50.5", "12"])), detect_decimal(pd.Series(["50.5", "1,5"]))
    ('.', None)
    >>> detect_decimal(pd.Series(["2.500", "1.000", "30"])) is None
    True
    """
    text = pc.utf8_trim_whitespace(_text(values).cast(pa.string()))
    has_comma = pc.any(pc.match_substring(text, ",")).as_py()
    dotted = pc.fill_null(pc.match_substring(text, "."), False)
    has_dot = pc.any(dotted).as_py()
    if not has_comma:
        if has_dot:
            grouped = pc.fill_null(pc.match_substring_regex(text, _GROUPED_ONLY), False)
            if pc.all(pc.or_(pc.invert(dotted), grouped)).as_py():
                return None
        return "."
    if not has_dot:
        return ","
    comma_forms = pc.or_(
        pc.match_substring_regex(text, _PLAIN_COMMA),
        pc.match_substring_regex(text, _GROUPED_COMMA),
    )
    if pc.all(pc.fill_null(comma_forms, True)).as_py():
        return ","
    return None


def parse_numbers(
    values: pa.Array | pa.ChunkedArray | pd.Series,
    *,
    decimal: str | None = None,
    source: str,
    column: str,
    what: str = "number",
    allow_infinite: bool = False,
) -> NDArray[np.float64]:
    """Parse a column of numbers strictly; empty cells become NaN.

    Parameters
    ----------
    values
        Text (or already numeric) values.
    decimal
        ``"."``, ``","`` or None to detect it per column (see the module docstring).
    source, column, what
        For the error message (``what``: "speed", "coordinate", ...).
    allow_infinite
        Keep infinite values (coordinates: such a row is counted as invalid later);
        otherwise they are an error.

    Raises
    ------
    InputError
        A cell is not a number in the column's convention (the message shows an
        example value, the column and the first file lines), or the column mixes
        decimal conventions.

    Examples
    --------
    >>> parse_numbers(pd.Series(["50,5", "", "1.000,25"]), decimal=",", source="f",
    ...               column="c").tolist()
    [50.5, nan, 1000.25]
    >>> parse_numbers(pd.Series(["50,5", "12"]), source="f", column="c").tolist()
    [50.5, 12.0]
    >>> parse_numbers(pd.Series(["99.9"]), decimal=",", source="f.csv", column="down")
    Traceback (most recent call last):
    ...
    coverage_gap.errors.InputError: 1 problem in the input:
      - f.csv, column 'down': a number that does not fit decimal = ",", e.g. '99.9' ...
    """
    array = _text(values)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        numbers = np.array(array.to_numpy(zero_copy_only=False), dtype=np.float64)
        if pa.types.is_floating(array.type):
            # A CSV reader turns the text "NaN" into a NaN (an empty cell is null): text.
            written = np.isnan(numbers) & np.asarray(
                pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool
            )
            if written.any():
                raise _row_error(
                    source,
                    column,
                    np.flatnonzero(written),
                    f"a {what} written as NaN",
                    f"{what}s must be numbers; leave a cell empty when there is no value",
                )
        return numbers if allow_infinite else _finite_or_error(numbers, source, column, what)
    if pa.types.is_null(array.type):
        return np.full(len(array), np.nan)
    text = pc.utf8_trim_whitespace(array.cast(pa.string()))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    chosen = decimal if decimal is not None else detect_decimal(text)
    declared = f'decimal = "{chosen}"' + ("" if decimal is not None else " (detected)")
    if chosen is None:
        grouped = not pc.any(pc.match_substring(text, ",")).as_py()
        _raise_bad(
            text,
            pc.fill_null(pc.match_substring(text, "."), False) if grouped else pc.is_valid(text),
            source=source,
            column=column,
            message=(
                f"the {what} column writes numbers like Danish thousands ('2.500' is 2,500 "
                "with a decimal comma, 2.5 with a decimal point)"
                if grouped
                else f"the {what} column mixes decimal commas and decimal points"
            ),
            fix='declare the decimal mark (decimal = "," or ".")'
            + ("" if grouped else " and correct the odd values"),
        )
    if chosen == ",":
        dotted = pc.fill_null(pc.match_substring(text, "."), False)
        if pc.any(dotted).as_py():
            # Dots are thousands separators here, and only in groups of three.
            grouped = pc.fill_null(pc.match_substring_regex(text, _GROUPED_COMMA), False)
            _check(
                text,
                pc.and_(dotted, pc.invert(grouped)),
                source,
                column,
                what,
                declared,
                'declare decimal = "." if the file writes 50.5',
            )
        cleaned = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    elif chosen == ".":
        _check(
            text,
            pc.fill_null(pc.match_substring(text, ","), False),
            source,
            column,
            what,
            declared,
            'declare decimal = "," for Danish numbers such as 50,5',
        )
        cleaned = text
    else:
        raise InputError(
            Problem(
                source, f"unknown decimal mark {decimal!r}", column=column, fix='use "." or ","'
            )
        )
    try:
        numbers = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pattern = _PLAIN_DOT if chosen == "." else _PLAIN_COMMA
        ok = (
            pc.match_substring_regex(pc.replace_substring(cleaned, ".", ","), pattern)
            if (chosen == ",")
            else pc.match_substring_regex(cleaned, pattern)
        )
        bad = pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(ok, True)))
        _check(
            text,
            bad,
            source,
            column,
            what,
            declared,
            f"{what}s must be numbers; leave a cell empty when there is no value",
        )
        raise  # pragma: no cover - the regular expression and the cast disagree
    numbers = np.array(numbers, dtype=np.float64)  # writable: callers blank rows out
    # Arrow's cast reads "nan" and "inf" too; as text they are not numbers here.
    written_nan = np.isnan(numbers) & np.asarray(pc.is_valid(text).to_numpy(zero_copy_only=False))
    _check(
        text,
        pa.array(written_nan),
        source,
        column,
        what,
        declared,
        f"{what}s must be numbers; leave a cell empty when there is no value",
    )
    return numbers if allow_infinite else _finite_or_error(numbers, source, column, what)


def _check(
    text: pa.Array,
    bad: pa.Array,
    source: str,
    column: str,
    what: str,
    declared: str,
    fix: str,
) -> None:
    if pc.any(bad).as_py():
        _raise_bad(
            text,
            bad,
            source=source,
            column=column,
            message=f"a {what} that does not fit {declared}",
            fix=fix + " (rows are file lines)",
        )


def _finite_or_error(
    values: NDArray[np.float64], source: str, column: str, what: str
) -> NDArray[np.float64]:
    infinite = np.isinf(values)
    if infinite.any():
        raise _row_error(
            source,
            column,
            np.flatnonzero(infinite),
            f"infinite {what}s",
            f"give finite {what}s; leave a cell empty when there is no value",
        )
    return values


def _row_error(
    source: str, column: str, rows: NDArray[np.intp], message: str, fix: str
) -> InputError:
    """Build an error naming the column and the first offending file lines (header = 1)."""
    return InputError(
        Problem(
            source,
            message,
            column=column,
            rows=tuple(int(r) + _FIRST_LINE for r in rows[:5]),
            count=int(rows.size),
            fix=fix,
        )
    )


def _raise_bad(
    text: pa.Array, bad: pa.Array, *, source: str, column: str, message: str, fix: str
) -> None:
    rows = np.flatnonzero(np.asarray(pc.fill_null(bad, False).to_numpy(zero_copy_only=False)))
    example = text.take(pa.array(rows[:1])).to_pylist()[0] if rows.size else None
    raise _row_error(source, column, rows, f"{message}, e.g. {example!r}", fix)
