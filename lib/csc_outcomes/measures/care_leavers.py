"""Care leavers aged 19 to 21 (SSDA903 OC3).

Catalogue denominator: "OC3 rows for young people whose 19th, 20th or 21st birthday
falls in the window, excluding `IN_TOUCH` `DIED` and `RHOM`". Birthdays use
``calendar.birthday`` (a child born on 29 February has birthdays on 1 March in
non-leap years). The OC3 rows are those of the collection year holding the period
end, or the latest earlier year supplied (``cohorts.year_rows``). The date of birth is
the OC3 row's ``DOB``, or the header's where the OC3 row has none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.base import RESULT_COLUMNS, Context, Tables, as_context, periods_key
from csc_outcomes.measures.cohorts import year_rows

EET = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5")
EXCLUDED = ("DIED", "RHOM")


def care_leaver_rows(ctx: Context, periods: pd.DataFrame) -> pd.DataFrame:
    """OC3 rows in each period's denominator, with the three flags. Memoised."""

    def build() -> pd.DataFrame:
        rows = year_rows(ctx, "oc3", periods)
        header = ctx["header"][["child_key", "DOB"]].rename(columns={"DOB": "_hdob"})
        header = header.drop_duplicates("child_key", keep="last")
        rows = rows.merge(header, on="child_key", how="left")
        rows = rows.merge(periods[["period_end", "window_start"]], on="period_end")
        dob = pd.to_datetime(rows["DOB"].fillna(rows["_hdob"])).astype("datetime64[ns]")
        in_window = np.zeros(len(rows), dtype=bool)
        for age in (19, 20, 21):
            b = calendar.birthday(dob, age)
            in_window |= ((b >= rows["window_start"]) & (b <= rows["period_end"])).fillna(False).to_numpy()
        rows = rows[in_window & ~rows["IN_TOUCH"].isin(EXCLUDED).to_numpy()]
        return pd.DataFrame(
            {
                "la_code": rows["la_code"].array,
                "period_end": rows["period_end"].to_numpy(),
                "eet": rows["ACTIV"].isin(EET).to_numpy(),
                "suitable": rows["ACCOM"].astype(object).fillna("").astype(str).str.endswith("1").to_numpy(),
                "in_touch": (rows["IN_TOUCH"] == "YES").fillna(False).to_numpy(dtype=bool),
            }
        )

    return ctx.memo(("care_leavers", periods_key(periods)), build)


def _rate(tables: Tables, periods: pd.DataFrame, flag: str) -> pd.DataFrame:
    """Of the care leavers in each period's denominator, those with ``flag``."""
    rows = care_leaver_rows(as_context(tables), periods)
    g = rows.groupby(["la_code", "period_end"], sort=False, observed=True)[flag]
    out = pd.concat([g.sum().rename("numerator"), g.size().rename("denominator")], axis=1)
    return out.reset_index()[RESULT_COLUMNS]


def care_leavers_eet_19_21(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Care leavers aged 19-21 in education, employment or training.

    Catalogue: "Of OC3 rows for young people whose 19th, 20th or 21st birthday falls in
    the window, excluding `IN_TOUCH` `DIED` and `RHOM`, those with `ACTIV` in `F1 P1 F2
    P2 F4 P4 F5 P5` (education, employment or training)."
    """
    return _rate(tables, periods, "eet")


def care_leavers_suitable_accom_19_21(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Care leavers aged 19-21 in suitable accommodation.

    Catalogue: "Same denominator, those with `ACCOM` ending in `1` (suitable)."
    """
    return _rate(tables, periods, "suitable")


def care_leavers_in_touch_19_21(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Care leavers aged 19-21 the LA is in touch with.

    Catalogue: "Same denominator, those with `IN_TOUCH = YES`."
    """
    return _rate(tables, periods, "in_touch")


__all__ = [
    "care_leaver_rows",
    "care_leavers_eet_19_21",
    "care_leavers_in_touch_19_21",
    "care_leavers_suitable_accom_19_21",
]
