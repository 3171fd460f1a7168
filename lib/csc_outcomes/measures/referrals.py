"""Referrals, re-referrals, NFA, sustained closures and contacts (CIN census, contacts feed).

Each function takes the prepared tables (a :class:`~.base.Context` or a plain
mapping) and the periods frame (``periods.make_periods``) and returns
``la_code, period_end, numerator, denominator`` for every LA with events; the
catalogue's output rules (empty denominators, zero-filled grids, absent sources) are
applied once by ``compute.compute_measures``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.base import (
    Context,
    Tables,
    as_context,
    is_true,
    rate_frame,
    window_sums,
)
from csc_outcomes.measures.day_numbers import SPAN, days, next_date_after


def referral_events(ctx: Context) -> pd.DataFrame:
    """Referrals (one per child and ``CINreferralDate``) with per-referral flags.

    ``rereferral``: the same child has an earlier referral dated on or after this
    referral's date minus one year (``calendar.add_years``; 29 February - 1 year is
    28 February). ``nfa``: ``ReferralNFA`` true. Memoised on the context.
    """

    def build() -> pd.DataFrame:
        ref = ctx["cin_episodes"]
        ref = ref[ref["CINreferralDate"].notna()]
        frame = pd.DataFrame(
            {
                "la_code": ref["la_code"].array,
                "child_key": ref["child_key"].to_numpy(),
                "date": ref["CINreferralDate"].to_numpy(),
                "nfa": is_true(ref["ReferralNFA"]).to_numpy(),
            }
        )
        # De-duplicated on (LA, child, date), so the previous row of the same child is
        # the latest earlier referral.
        # One int64 sort key (child, then date) instead of a two-key lexsort.
        sort_key = frame["child_key"].to_numpy().astype("int64") * SPAN + days(frame["date"])
        order = np.argsort(sort_key, kind="stable")
        del sort_key
        frame = frame.iloc[order].reset_index(drop=True)
        same = frame["child_key"].eq(frame["child_key"].shift(1))
        prev = frame["date"].shift(1).where(same)
        limit = calendar.add_years(frame["date"], -1)
        frame["rereferral"] = (prev >= limit).fillna(False).astype(bool)
        return frame

    return ctx.memo("referral_events", build)


def referrals(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Referrals with ``CINreferralDate`` in the window.

    Catalogue: "`referrals` | count | Referrals with `CINreferralDate` in the window."
    """
    ctx = as_context(tables)
    ev = referral_events(ctx)
    out = window_sums(ev, "date", periods, {"numerator": None})
    return rate_frame(out)


def rereferrals_within_12m(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Re-referrals within 12 months of an earlier referral.

    Catalogue: "Of the referrals in the window, those where the same child had an
    earlier referral dated on or after the referral date minus 1 year (and before the
    referral date). The earlier referral may fall before the window."
    """
    ctx = as_context(tables)
    ev = referral_events(ctx)
    out = window_sums(ev, "date", periods, {"numerator": "rereferral", "denominator": None})
    return rate_frame(out)


def referrals_nfa(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Referrals with no further action.

    Catalogue: "Of the referrals in the window, those with `ReferralNFA` true
    (`1`/`true`)."
    """
    ctx = as_context(tables)
    ev = referral_events(ctx)
    out = window_sums(ev, "date", periods, {"numerator": "nfa", "denominator": None})
    return rate_frame(out)


def cin_closures_sustained_12m(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Closures not followed by a referral within a year (outcome).

    Catalogue: "Of the CIN episodes with `CINclosureDate` in the 12 months ending one
    year before `period_end` (so every closure has a full year of follow-up), those
    for which the same child has no referral in the 12 months after the closure
    (`closure < referral <= closure + 1 year`)."
    """
    ctx = as_context(tables)
    eps = ctx["cin_episodes"]
    closed = eps[eps["CINclosureDate"].notna()]
    refs = eps[eps["CINreferralDate"].notna()]
    k_closed, k_refs = closed["child_key"].to_numpy(), refs["child_key"].to_numpy()
    nxt = next_date_after(k_closed, closed["CINclosureDate"], k_refs, refs["CINreferralDate"])
    horizon = days(calendar.add_years(closed["CINclosureDate"], 1))
    sustained = (nxt < 0) | (nxt > horizon)
    ev = pd.DataFrame(
        {
            "la_code": closed["la_code"].array,
            "date": closed["CINclosureDate"].to_numpy(),
            "sustained": sustained,
        }
    )
    out = window_sums(
        ev, "date", periods, {"numerator": "sustained", "denominator": None},
        lo="prev_start", hi="prev_end",
    )
    return rate_frame(out)


def contacts_to_referrals(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Contacts per referral (ratio).

    Catalogue: "Only where a local contacts feed is supplied: contacts in the window
    divided by referrals in the window (`numerator` contacts, `denominator`
    referrals)."
    """
    ctx = as_context(tables)
    contacts = ctx["contacts"]  # prepared: only rows with a contact_id, one per id
    num = window_sums(contacts, "contact_date", periods, {"numerator": None})
    den = window_sums(referral_events(ctx), "date", periods, {"denominator": None})
    out = num.merge(den, on=["la_code", "period_end"], how="outer")
    for col in ("numerator", "denominator"):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype("int64")
    return rate_frame(out)


__all__ = [
    "cin_closures_sustained_12m",
    "contacts_to_referrals",
    "referral_events",
    "referrals",
    "referrals_nfa",
    "rereferrals_within_12m",
]
