"""The custom checks a contract may name: column checks and row checks.

Each is a vectorised function returning ``True`` for the values (rows) that pass;
missing values pass (``required`` is checked apart). The YAML names them: a column's
``checks: [upn_format]`` (:data:`COLUMN_CHECKS`), a table's ``checks:`` list of row
checks over several columns (:data:`ROW_CHECKS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

_UPN_RE = r"^(?:[A-Z]\d{11}[0-9A-Z]|UN(?:10|[1-9]))$"
_POSTCODE_RE = r"^[A-Z]{1,2}\d[A-Z\d]? ?\d(?:[A-Z]{2})?$"
_ACCOM_RE = r"^(?:[A-Z][12]|0)$"


class ColumnCheck(NamedTuple):
    """A named column check: the test, how serious a failure is, and what to tell the user."""

    passes: Callable[[pd.Series], pd.Series]
    severity: str
    message_tail: str


def _matches(pattern: str) -> Callable[[pd.Series], pd.Series]:
    """A check that a text value matches ``pattern`` in full (missing values pass)."""
    return lambda s: s.str.fullmatch(pattern).fillna(True).astype(bool)


#: Column checks named in the YAML under a column's ``checks``.
COLUMN_CHECKS: dict[str, ColumnCheck] = {
    "upn_format": ColumnCheck(
        _matches(_UPN_RE), "warning",
        "is not a UPN (a letter then 12 characters, e.g. A123456789012, or UN1-UN10); "
        "check the pupil number",
    ),
    "postcode_format": ColumnCheck(
        _matches(_POSTCODE_RE), "warning",
        "is not a UK postcode or postcode sector (e.g. AB1 2CD or AB1 2); check the postcode",
    ),
    "accom_format": ColumnCheck(
        _matches(_ACCOM_RE), "error",
        "is not an accommodation code (a letter then 1 or 2, e.g. U1, or 0)",
    ),
}


def date_order(df: pd.DataFrame, earlier: str, later: str) -> pd.Series:
    """``later`` is not before ``earlier`` (when both are given)."""
    return ~(df[later] < df[earlier]).fillna(False).astype(bool)


def sessions_within_possible(df: pd.DataFrame, possible: str, auth: str, unauth: str) -> pd.Series:
    """Authorised plus unauthorised absence sessions do not exceed the possible sessions."""
    total = df[auth].fillna(0) + df[unauth].fillna(0)
    return ~(total > df[possible]).fillna(False).astype(bool)


#: Row checks (several columns) named in the YAML under ``checks``.
ROW_CHECKS: dict[str, Callable[..., pd.Series]] = {
    "date_order": date_order,
    "sessions_within_possible": sessions_within_possible,
}
