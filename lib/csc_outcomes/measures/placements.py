"""Episodes in order, placement counting and carer changes (SSDA903), vectorised.

The placement rule and the prepared episodes every looked-after measure starts from
(``cohorts`` builds the cohorts on them; ``stability`` counts placements with them).

Catalogue: episodes with ``PLACE`` ``T0``-``T4`` (temporary absences) are skipped when
counting: they are neither placements nor changes, and the episode after one is
compared with the last episode before it. Taking a child's other episodes in date
order, an episode starts a new placement when it is the first of the span being
counted, or ``RNE = S``, or ``RNE`` is ``P``/``B``/``T``/``U`` except (a) ``PLACE``
``A3``/``A5`` after a foster placement ``U1``-``U6`` (placed for adoption with the
current foster carer) and (b) after a temporary absence, when ``PLACE``, ``URN`` and
``PL_POST`` all equal those of the episode before the absence. ``RNE = L`` never
starts a placement. A carer change is a new placement with ``RNE`` ``P`` or ``B``.

How it is vectorised: the episodes of every child are sorted once; absence rows are
dropped; each remaining episode is compared with the previous remaining episode of
the same child (a ``shift`` inside child groups), which gives a period-independent
flag ``new_placement``. For a span (the episodes overlapping a window), the count is
``1 + sum(new_placement)`` over the span's non-absence episodes other than its first,
so every period end is a mask and a ``groupby`` sum, not a walk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes.measures.base import (
    ADOPTION_WITH_CARER,
    FOSTER,
    TEMPORARY_ABSENCES,
    Context,
    eq_or_both_missing,
)


def prepared_episodes(ctx: Context) -> pd.DataFrame:
    """Episodes sorted by LA, child and ``DECOM``, with derived columns.

    ``child_key`` (int per LA and child), ``absence`` (``PLACE`` T0-T4),
    ``poc_id``/``poc_start`` (the continuous period of care: a chain of episodes in
    which each ``DEC`` equals the next ``DECOM``; its start is the chain's first
    ``DECOM``), ``new_placement`` (see the module docstring; False on absences) and
    ``carer_change`` (a new placement with ``RNE`` P/B that is not the child's first
    non-absence episode). Memoised on the context.
    """

    def build() -> pd.DataFrame:
        e = ctx["episodes"]
        e = e[e["DECOM"].notna()]
        f = pd.DataFrame(
            {
                "la_code": e["la_code"].array,
                "child_key": e["child_key"].to_numpy(),
                "DECOM": e["DECOM"].to_numpy(),
                "DEC": e["DEC"].to_numpy(),
                "RNE": e["RNE"].astype(object).to_numpy(),
                "LS": e["LS"].astype(object).to_numpy(),
                "PLACE": e["PLACE"].astype(object).to_numpy(),
                "URN": e["URN"].astype(object).to_numpy(),
                "PL_POST": e["PL_POST"].astype(object).to_numpy(),
            }
        )
        f = f.sort_values(["child_key", "DECOM"], kind="stable").reset_index(drop=True)
        ck = f["child_key"].to_numpy()
        same_prev = np.r_[False, ck[1:] == ck[:-1]] if len(f) else np.zeros(0, bool)

        # Continuous period of care: a new chain starts unless the previous episode of
        # the same child ended on this one's start date.
        prev_dec = f["DEC"].shift(1)
        linked = same_prev & (prev_dec == f["DECOM"]).fillna(False).to_numpy()
        f["poc_id"] = np.cumsum(~linked)
        f["poc_start"] = f.groupby("poc_id", sort=False)["DECOM"].transform("first")

        absence, new_placement, carer_change = placement_flags(
            f["child_key"].to_numpy(), f["RNE"], f["PLACE"], f["URN"], f["PL_POST"]
        )
        f["absence"] = absence
        f["new_placement"] = new_placement
        f["carer_change"] = carer_change
        return f

    return ctx.memo("prepared_episodes", build)


def placement_flags(
    child_key: np.ndarray,
    rne: pd.Series,
    place: pd.Series,
    urn: pd.Series,
    pl_post: pd.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The catalogue's placement rule for episodes sorted by child, then ``DECOM``.

    Returns three boolean arrays aligned with the input: ``absence`` (``PLACE``
    T0-T4), ``new_placement`` (the episode starts a placement: the child's first
    non-absence episode, ``RNE = S``, or a move ``P``/``B``/``T``/``U`` that is neither
    adoption by the current foster carer nor a return to the same placement after an
    absence; False on absences) and ``carer_change`` (a new placement with ``RNE``
    ``P``/``B`` other than the child's first). The one implementation of the rule:
    the measures count with it and ``stats.frames`` counts moves with it.
    """
    child_key = np.asarray(child_key)
    n = len(child_key)
    same_prev = np.r_[False, child_key[1:] == child_key[:-1]] if n else np.zeros(0, bool)
    absence = place.isin(TEMPORARY_ABSENCES).to_numpy()
    prev_absent = np.r_[False, absence[:-1]] & same_prev if n else np.zeros(0, bool)

    keep = ~absence
    nck = child_key[keep]
    has_prev = np.r_[False, nck[1:] == nck[:-1]] if len(nck) else np.zeros(0, bool)
    nt = pd.DataFrame({"RNE": rne.to_numpy()[keep], "PLACE": place.to_numpy()[keep],
                       "URN": urn.to_numpy()[keep], "PL_POST": pl_post.to_numpy()[keep]})
    prev = nt[["PLACE", "URN", "PL_POST"]].shift(1)
    after_absence = prev_absent[keep] & has_prev
    same_place = (
        eq_or_both_missing(nt["PLACE"], prev["PLACE"])
        & eq_or_both_missing(nt["URN"], prev["URN"])
        & eq_or_both_missing(nt["PL_POST"], prev["PL_POST"])
    )
    adoption_by_carer = (
        nt["PLACE"].isin(ADOPTION_WITH_CARER).to_numpy()
        & prev["PLACE"].isin(FOSTER).to_numpy()
        & has_prev
    )
    moves = nt["RNE"].isin(["P", "B", "T", "U"]).to_numpy()
    new = (
        ~has_prev
        | (nt["RNE"] == "S").to_numpy()
        | (moves & ~adoption_by_carer & ~(after_absence & same_place))
    )
    new_placement = np.zeros(n, dtype=bool)
    new_placement[keep] = new
    carer_change = np.zeros(n, dtype=bool)
    carer_change[keep] = new & has_prev & nt["RNE"].isin(["P", "B"]).to_numpy()
    return absence, new_placement, carer_change


def placements_in_window(
    episodes: pd.DataFrame, window_start: pd.Timestamp, period_end: pd.Timestamp
) -> pd.DataFrame:
    """Placements per child during one window: ``child_key, placements``.

    The span is the episodes overlapping the window (``DECOM <= period_end`` and
    ``DEC`` empty or ``> window_start``); absences are skipped and the span's first
    non-absence episode counts 1. ``episodes`` is :func:`prepared_episodes`' frame.
    """
    ov = episodes[
        (episodes["DECOM"] <= period_end)
        & (episodes["DEC"].isna() | (episodes["DEC"] > window_start))
        & ~episodes["absence"]
    ]
    ck = ov["child_key"].to_numpy()
    first = np.r_[True, ck[1:] != ck[:-1]] if len(ov) else np.zeros(0, bool)
    counted = ov["new_placement"].to_numpy() & ~first
    out = (
        pd.DataFrame({"child_key": ck, "c": counted.astype("int64")})
        .groupby("child_key", sort=False)["c"]
        .sum()
        .add(1)
        .rename("placements")
        .reset_index()
    )
    return out


__all__ = ["placement_flags", "placements_in_window", "prepared_episodes"]
