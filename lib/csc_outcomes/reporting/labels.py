"""Readable names for the statutory codes that reports show.

The names are data (``data_contracts/``), so an LA can correct or extend them without
touching code; this module only loads them.
"""

from __future__ import annotations

from functools import cache

import yaml

from csc_outcomes.paths import contracts_dir


@cache
def assessment_factor_labels() -> dict[str, str]:
    """CIN census assessment factor code -> readable name (codes not listed are absent)."""
    path = contracts_dir() / "cin" / "assessment_factor_labels.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(code): str(name) for code, name in (data.get("labels") or {}).items()}


def factor_term_labels(terms: list[str] | None = None) -> dict[str, str]:
    """Labels for model terms named ``factor_<code>``: "Name (code)" or "Factor <code>".

    With ``terms`` given, every one of them gets a label; otherwise every known code.
    """
    known = assessment_factor_labels()
    codes = [t.removeprefix("factor_") for t in terms] if terms is not None else list(known)
    return {
        f"factor_{code}": f"{known[code]} ({code})" if code in known else f"Factor {code}"
        for code in codes
    }
