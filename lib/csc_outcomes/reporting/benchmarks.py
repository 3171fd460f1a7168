"""Every measure of an LA beside England, its region and its statistical neighbours.

What LA analysts read in DfE's LAIT: each indicator for the LA beside England, the
region and the median and range of its ten statistical neighbours, and the LA's
quartile band among all LAs, for the latest year DfE has published. The comparators
come from the published files (:mod:`reporting.published_data`), so a warehouse holding
one LA gets them too; a synthetic LA takes those of the real LA it stands in for
(``like:``). The LA's own figure is the released one (``disclosure.release``: ``c``
when suppressed, never a number); published figures are shown as published. Counts are
per 10,000 children (:mod:`reporting.rates`). For a real LA, its published figure is set
beside its own computed 31 March figure of the same year, with the difference flagged:
the reconciliation LAs do by hand every year.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.published.contract import measure_notes
from csc_outcomes.reporting import disclosure, rates
from csc_outcomes.reporting.la_register import LA_LEVEL
from csc_outcomes.reporting.published_data import ENGLAND, Published, load_published

COLUMNS = ["measure_id", "label", "kind", "per_10k", "la_value", "la_shown", "england", "region",
           "region_name", "neighbours_median", "neighbours_min", "neighbours_max", "neighbours_n",
           "quartile_band", "published_year", "la_published", "difference", "reconciliation",
           "note"]
#: A computed rate further than this from the published one is flagged (DfE rounds
#: published percentages to whole numbers, so half a point is rounding alone).
RATE_TOLERANCE = 0.01
#: A computed count further than this share from the published one is flagged.
COUNT_TOLERANCE = 0.02
QUARTERS = {1: "lowest quarter", 2: "second quarter", 3: "third quarter", 4: "highest quarter"}


def released_of(view_or_measures: Any, threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The released measures of a report view, a released table, or a raw measures
    table (released here, so no raw figure is ever compared or shown)."""
    frame = getattr(view_or_measures, "released", view_or_measures)
    if disclosure.MARK in frame.attrs:
        return frame
    return disclosure.release(frame, threshold)


def report_year(period_end: Any) -> int:
    """The year ending 31 March a period end falls in (its population year)."""
    p = pd.Timestamp(period_end)
    return p.year + int(p.month > 3)


def quartile_band(value: float, values: Any) -> Any:
    """1 (lowest quarter of ``values``) to 4 (highest), or ``pd.NA`` when either is missing."""
    vals = np.asarray(pd.Series(values, dtype=float).dropna())
    if pd.isna(value) or vals.size == 0:
        return pd.NA
    cuts = np.quantile(vals, [0.25, 0.5, 0.75])
    return int(np.searchsorted(cuts, value, side="left")) + 1


#: An LA's released rows by (measure, period end), each as a plain mapping (:func:`own_rows`).
OwnRows = Mapping[tuple[str, pd.Timestamp], Mapping[Any, Any]]


def own_rows(released: pd.DataFrame, la_code: str) -> OwnRows:
    """The LA's released rows by (measure, period end), the first of each kept: looked
    up for each measure twice a report (a filter of the table each time cost a
    millisecond and a half, thousands of times a national run)."""
    mine = released[released["la_code"] == la_code]
    out: dict[tuple[str, pd.Timestamp], Mapping[Any, Any]] = {}
    for row in mine.to_dict("records"):
        out.setdefault((str(row["measure_id"]), pd.Timestamp(row["period_end"]).normalize()), row)
    return out


def own_value(own: OwnRows, measure_id: str, period: Any, population: float) -> tuple[float, str]:
    """The LA's released figure (per 10,000 for a count) and its display string."""
    row = own.get((measure_id, pd.Timestamp(period).normalize()))
    if row is None:
        return float("nan"), disclosure.NOT_AVAILABLE
    if row["status"] != "shown":
        return float("nan"), str(row["status"])
    value = float(row["value"])
    if rates.is_count(measure_id):
        value = rates.per_10k(value, population)
    return value, rates.display(value, str(row["kind"]), rates.is_count(measure_id))


def reconcile(computed: float, published: float, kind: str) -> tuple[float, str]:
    """The difference (own minus published) and a word on it."""
    if pd.isna(published):
        return float("nan"), "not published"
    if pd.isna(computed):
        return float("nan"), "no own 31 March figure shown"
    diff = computed - published
    off = abs(diff) > (RATE_TOLERANCE if kind != "count" else COUNT_TOLERANCE * abs(published))
    return diff, ("differs: check definitions and returns" if off else "matches")


def area_value(rows: pd.DataFrame, code: str | None) -> float:
    hit = rows.loc[rows["area_code"] == code, "value"]
    return float(hit.iloc[0]) if len(hit) and pd.notna(hit.iloc[0]) else float("nan")


def published_part(pub: Published, measure_id: str, stand_in: str | None) -> dict[str, Any]:
    """What :func:`comparator_row` shows of the published figures alone for a measure
    and a stand-in (England, the region, the neighbours' median and range, every LA's
    values for the quartile band): the same for every report of the LA and for every
    synthetic LA standing in for it, so worked out once a process (``Published.once``)."""
    def work() -> dict[str, Any]:
        rows = pub.latest_rated(measure_id)
        region_code, region_name = pub.region_of(stand_in) if stand_in else ("", "")
        near = rows[rows["area_code"].isin(pub.neighbours_of(stand_in) if stand_in else [])]["value"].dropna()
        return {"england": area_value(rows, ENGLAND), "region": area_value(rows, region_code),
                "region_name": region_name, "neighbours_median": near.median(),
                "neighbours_min": near.min(), "neighbours_max": near.max(),
                "neighbours_n": len(near),
                "la_values": rows.loc[rows["geographic_level"] == LA_LEVEL, "value"]}
    return dict(pub.once(("comparators' published part", measure_id, stand_in), work))


def comparator_row(pub: Published, own: OwnRows, la_code: str, period_end: Any,
                   stand_in: str | None, measure_id: str) -> dict[str, Any]:
    """One measure's row of :func:`comparators` (``own``: the LA's rows, :func:`own_rows`)."""
    year = pub.latest_year(measure_id)
    rows = pub.latest_rated(measure_id)
    kind, count = CATALOGUE[measure_id].kind, rates.is_count(measure_id)
    is_real = la_code in pub.la_codes()
    # only a real LA has a child population: a synthetic one's counts get no rate
    population = pub.population(la_code, report_year(period_end)) if is_real else float("nan")
    la_value, la_shown = own_value(own, measure_id, period_end, population)
    part = published_part(pub, measure_id, stand_in)
    la_published = area_value(rows, la_code) if is_real else float("nan")
    diff, word = float("nan"), ""
    if is_real and year is not None:
        computed, _ = own_value(own, measure_id, f"{year}-03-31", pub.population(la_code, year))
        diff, word = reconcile(computed, la_published, kind)
        symbol = rows.loc[rows["area_code"] == la_code, "symbol"]
        if pd.isna(la_published) and len(symbol) and symbol.iloc[0]:
            word = f"published as {symbol.iloc[0]} (a DfE symbol, not a number)"
    band_value = la_value if pd.notna(la_value) else la_published
    la_values = part.pop("la_values")
    return {"measure_id": measure_id, "label": CATALOGUE[measure_id].label, "kind": kind,
            "per_10k": count, "la_value": la_value, "la_shown": la_shown, **part,
            "quartile_band": quartile_band(band_value, la_values),
            "published_year": year, "la_published": la_published, "difference": diff,
            "reconciliation": word, "note": measure_notes().get(measure_id, "")}


def comparators(view_or_measures: Any, la_code: str, period_end: Any, like: str | None = None, *,
                published: Published | None = None,
                threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Every published measure of the LA beside England, region and neighbours (:data:`COLUMNS`).

    ``like``: the real LA a synthetic LA stands in for (ignored for a real LA). Values
    on the measures table's scale (rates as proportions), counts per 10,000 children;
    comparators for the latest year published, the LA's own figure at ``period_end``.
    """
    pub = published or load_published()
    released = released_of(view_or_measures, threshold)
    own = own_rows(released, la_code)  # cut once, not once a measure
    stand_in = pub.stand_in(la_code, like)
    ids = [m for m in CATALOGUE if pub.latest_year(m) is not None]
    out = pd.DataFrame([comparator_row(pub, own, la_code, period_end, stand_in, m) for m in ids],
                       columns=COLUMNS)
    out["quartile_band"] = out["quartile_band"].astype("Int64")
    out["published_year"] = out["published_year"].astype("Int64")
    out["neighbours_n"] = out["neighbours_n"].astype(int)
    return out


def distance(value: float, reference: float, kind: str, per_10k: bool) -> str:
    """How far ``value`` is from ``reference``, in the unit readers use for the measure:
    ``3.1 percentage points above``, ``12.0 per 10,000 children below``."""
    diff = value - reference
    if kind == "rate" and not per_10k:
        size, unit = abs(diff) * 100, " percentage points"
    else:
        size, unit = abs(diff), (" per 10,000 children" if per_10k else "")
    if round(size, 1) == 0:
        return "the same as"
    return f"{size:,.1f}{unit} {'above' if diff > 0 else 'below'}"


def comparator_sentence(row: pd.Series | dict[str, Any], name: str) -> str:
    """One sentence: the LA's figure, how far it is from England, its region and its
    neighbours' median, and its quartile band. A figure not shown gets no position."""
    kind, per = str(row["kind"]), bool(row["per_10k"])
    label = row["label"] + (" (per 10,000 children)" if per else "")
    fig = functools.partial(rates.display, kind=kind, per_10k_shown=per)
    refs = [(row["england"], "England"), (row["region"], row["region_name"]),
            (row["neighbours_median"], f"the median of its {row['neighbours_n']} statistical neighbours")]
    refs = [(v, who) for v, who in refs if pd.notna(v) and who]
    context = ", ".join(f"{who} {fig(v)}" for v, who in refs)
    year = f"published for the year ending 31 March {row['published_year']}"
    if pd.isna(row["la_value"]):
        why = {"c": "suppressed (c)", "z": "not applicable (z)"}.get(row["la_shown"], "not available (x)")
        return (f"{label}: {name}'s own figure is {why}, so it is not placed against its "
                f"comparators ({context}; {year}).")
    where = "; ".join(f"{distance(row['la_value'], v, kind, per)} {who}" for v, who in refs)
    band = QUARTERS.get(row["quartile_band"]) if pd.notna(row["quartile_band"]) else None
    text = f"{label}: {fig(row['la_value'])} for {name}, {where} ({year})"
    return text + (f", in the {band} of all LAs." if band else ".")


def in_levels(frame: pd.DataFrame, levels: list[str] | None) -> pd.DataFrame:
    """The rows of :func:`comparators` whose measures are of ``levels`` (all when None)."""
    if levels is None:
        return frame
    return frame[frame["measure_id"].map(lambda m: CATALOGUE[m].level in levels)]


def note_numbers(frame: pd.DataFrame) -> dict[str, int]:
    """Each definition note of ``frame``, numbered in order of first appearance: the
    table carries the number, the notes follow it (long notes in a table column made
    it run over pages in a PDF)."""
    notes = [str(n) for n in frame["note"] if n]
    return {n: i for i, n in enumerate(dict.fromkeys(notes), start=1)}


def definition_notes(frame: pd.DataFrame, levels: list[str] | None = None) -> str:
    """The numbered notes :func:`display_table` refers to, as markdown (empty if none)."""
    numbers = note_numbers(in_levels(frame, levels))
    if not numbers:
        return ""
    items = "\n".join(f"{i}. {note}" for note, i in numbers.items())
    return f"Where DfE's published definition differs from this kit's:\n\n{items}"


def display_table(frame: pd.DataFrame, name: str, levels: list[str] | None = None) -> pd.DataFrame:
    """:func:`comparators` as a table of display strings (for ``context.styled``),
    only the measures of ``levels`` (catalogue levels) when given; definition notes as
    numbers (:func:`definition_notes` gives their text)."""
    frame = in_levels(frame, levels)
    numbers = note_numbers(frame)
    names = [n for n in frame["region_name"].unique() if n]
    region = f"Region ({names[0]})" if len(names) == 1 else "Region"
    rows = []
    for _, r in frame.iterrows():
        kind, per = str(r["kind"]), bool(r["per_10k"])
        fig = functools.partial(rates.display, kind=kind, per_10k_shown=per)
        near = (f"{fig(r['neighbours_median'])} ({fig(r['neighbours_min'])} to "
                f"{fig(r['neighbours_max'])})" if r["neighbours_n"] else "x")
        rows.append({"Measure": r["label"] + (" per 10,000 children" if per else ""),
                     name: r["la_shown"], "England": fig(r["england"]),
                     region: fig(r["region"]), "Statistical neighbours: median (range)": near,
                     "Quartile band": QUARTERS.get(r["quartile_band"], "x")
                     if pd.notna(r["quartile_band"]) else "x",
                     "Published year": str(r["published_year"]),
                     "Reconciliation": (f"{fig(r['la_published'])} published; {r['reconciliation']}"
                                        if r["reconciliation"] else ""),
                     "Definition differs": f"see note {numbers[r['note']]}" if r["note"] else ""})
    out = pd.DataFrame(rows)
    return out.drop(columns=[c for c in ("Reconciliation",) if c in out and not out[c].any()])


def sentences(frame: pd.DataFrame, name: str, measure_ids: list[str] | None = None) -> str:
    """:func:`comparator_sentence` of each measure (all, or ``measure_ids``), as a list."""
    rows = frame if measure_ids is None else frame[frame["measure_id"].isin(measure_ids)]
    return "\n".join(f"- {comparator_sentence(r, name)}" for _, r in rows.iterrows())


def introduction(pub: Published, la_code: str, name: str, like: str | None = None) -> str:
    """Who the comparators are, in one paragraph (and whom a synthetic LA stands in for)."""
    stand_in = pub.stand_in(la_code, like)
    if stand_in is None:
        return (f"Comparators: England and all LAs, from DfE's published figures. {name} is not "
                "one of the 153 LAs and names none it stands in for (`like:` in its parameters "
                "file), so no region or statistical neighbours are shown.")
    who = pub.area_name(stand_in)
    near = ", ".join(pub.area_name(c) for c in pub.neighbours_of(stand_in))
    text = (f"Comparators, from DfE's published figures: England, {pub.region_of(stand_in)[1]} "
            f"and {who}'s ten statistical neighbours in DfE's model ({near}).")
    if stand_in != la_code:
        text += (f" {name} is synthetic: it stands in for {who}, so its region and neighbours "
                 f"are {who}'s, and {who}'s published figures are drawn in its trends.")
    return text
