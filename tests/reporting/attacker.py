"""An attacker for the disclosure tests: what can arithmetic on a publication recover?

A publication is a list of facts, as a careful reader collects them from every report
published for a period (every LA's pages):

- :class:`Row`: one LA's measure at one period, its numerator, denominator and value as
  displayed (``"c"``, ``"12"``, ``"7.1%"``; ``"?"`` where the fact does not say);
- :class:`PoolFact`: a comparator figure (neighbours, all LAs, a mean of counts), as
  displayed, with the LAs it covers;
- :class:`TableFact`: a table of counts and the groups of cells whose totals are
  published (a total ``None`` is unknown to the reader but assumed public: the attack
  then asks only whether the totals would pin a cell).

:func:`attack` derives what it can, the ways the issue names: value x denominator
(within the display's rounding), numerator / value, complements (denominator minus
numerator), pool minus shown members, one pool minus another, a mean of counts x the
number of LAs, total minus parts, and the equations of a table together (rank). It is
written apart from ``disclosure`` (its own interval arithmetic and rank test), so the
tests check the library against an independent judge.

A recovery is a quantity the reader works out exactly that the publication hides
(shown as ``c`` somewhere) or that is small (1 to the threshold) and shown nowhere as
such: a complement of 1, or a count read straight off a page.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from csc_outcomes.published.contract import measure_notes

SYMBOL = {"c", "x", "z", "k"}
UNKNOWN = "?"


@dataclass(frozen=True)
class Row:
    """One LA's measure at one period as a page shows it (``"?"``: not stated here)."""

    la: str
    period: str
    measure: str
    kind: str
    numerator: str = UNKNOWN
    denominator: str = UNKNOWN
    value: str = UNKNOWN


@dataclass(frozen=True)
class PoolFact:
    """A pooled figure as displayed, over exactly ``members`` (rates: sum over sum;
    counts: the mean per LA)."""

    period: str
    measure: str
    kind: str
    members: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class TableFact:
    """A table of counts: cell id -> display, and groups of cells adding up to a total
    (``totals[i]`` the total of ``groups[i]``, ``None`` when only assumed public)."""

    name: str
    cells: dict[str, str]
    groups: tuple[tuple[str, ...], ...]
    totals: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Recovery:
    """A quantity worked out exactly (``value`` None: pinned by the equations of a table
    whose totals the reader is assumed to know) and how."""

    what: tuple[str, ...]
    value: int | None
    how: str


Var = tuple[str, ...]


def parse_number(text: str) -> float | None:
    t = text.strip().replace(",", "")
    t = t.removesuffix("%")
    try:
        return float(t)
    except ValueError:
        return None


def interval(display: str, kind: str) -> tuple[float, float] | None:
    """The true values a display can stand for: ``7.1%`` is 0.0705 to 0.0715."""
    if display in SYMBOL or display == UNKNOWN:
        return None
    v = parse_number(display)
    if v is None:
        return None
    if display.strip().endswith("%"):
        decimals = len(display.strip()[:-1].partition(".")[2])
        half = 0.5 * 10 ** -decimals
        return ((v - half) / 100, (v + half) / 100)
    decimals = len(display.strip().partition(".")[2])
    if kind == "count" and decimals == 0:
        return (v, v)
    half = 0.5 * 10 ** -decimals
    return (v - half, v + half)


@dataclass
class _State:
    """Intervals of every variable, the sum facts, and what was seen as ``c``."""

    threshold: int
    lo: dict[Var, float] = field(default_factory=lambda: defaultdict(float))
    hi: dict[Var, float] = field(default_factory=lambda: defaultdict(lambda: math.inf))
    hidden: set[Var] = field(default_factory=set)
    shown: set[Var] = field(default_factory=set)
    sums: dict[frozenset[Var], tuple[float, float]] = field(default_factory=dict)
    how: dict[Var, str] = field(default_factory=dict)

    def known(self, v: Var) -> int | None:
        lo, hi = self.lo[v], self.hi[v]
        return int(lo) if lo == hi else None

    def narrow(self, v: Var, lo: float, hi: float, how: str) -> bool:
        lo = math.ceil(lo - 1e-7) if math.isfinite(lo) else lo
        hi = math.floor(hi + 1e-7) if math.isfinite(hi) else hi
        new_lo, new_hi = max(self.lo[v], lo), min(self.hi[v], hi)
        if new_lo > new_hi:
            raise AssertionError(f"attacker: contradiction on {v} ({new_lo} > {new_hi}, {how})")
        changed = (new_lo, new_hi) != (self.lo[v], self.hi[v])
        self.lo[v], self.hi[v] = new_lo, new_hi
        if changed and new_lo == new_hi:
            self.how.setdefault(v, how)
        return changed

    def add_sum(self, vs: Iterable[Var], lo: float, hi: float) -> None:
        key = frozenset(vs)
        if not key:
            return
        old = self.sums.get(key, (-math.inf, math.inf))
        self.sums[key] = (max(old[0], lo), min(old[1], hi))


def _merge_rows(rows: list[Row]) -> dict[tuple[str, str, str], dict[str, set[str]]]:
    merged: dict[tuple[str, str, str], dict[str, set[str]]] = defaultdict(
        lambda: {"numerator": set(), "denominator": set(), "value": set(), "kind": set()})
    for r in rows:
        m = merged[(r.la, r.period, r.measure)]
        m["kind"].add(r.kind)
        for part in ("numerator", "denominator", "value"):
            d = getattr(r, part).strip()
            if d != UNKNOWN:
                m[part].add(d)
    return merged


@dataclass(frozen=True)
class _RowVars:
    n: Var
    d: Var
    kind: str
    value: tuple[float, float] | None


def _load_rows(st: _State, rows: list[Row]) -> list[_RowVars]:
    """Each row's variables, with what its displays say about them."""
    out = []
    for (la, period, measure), m in _merge_rows(rows).items():
        kind = next(iter(m["kind"]))
        n, d = ("N", la, period, measure), ("D", la, period, measure)
        parts = [(n, m["numerator"])] + ([] if kind == "count" else [(d, m["denominator"])])
        for var, displays in parts:
            for disp in displays:
                exact = None if disp in SYMBOL else parse_number(disp)
                if disp == "c":
                    st.hidden.add(var)
                elif exact is not None:
                    st.shown.add(var)
                    st.narrow(var, exact, exact, "shown")
        if "c" in m["value"]:
            st.hidden.add(n)
            if kind == "count":  # the published rule: a count is c only from 1 to the threshold
                st.narrow(n, 1, st.threshold, "c means 1 to the threshold")
        values = [iv for iv in (interval(v, kind) for v in m["value"]) if iv is not None]
        value = (max(v[0] for v in values), min(v[1] for v in values)) if values else None
        if kind == "count" and value is not None:
            st.shown.add(n)
            st.narrow(n, value[0], value[1], "shown")
        out.append(_RowVars(n, d, kind, value))
    return out


def _row_step(st: _State, rows: list[_RowVars]) -> bool:
    changed = False
    for r in rows:
        if r.kind == "count":
            continue
        if r.kind == "rate":
            changed |= st.narrow(r.n, 0, st.hi[r.d], "numerator <= denominator")
            changed |= st.narrow(r.d, st.lo[r.n], math.inf, "denominator >= numerator")
        if r.value is None:
            continue
        lo, hi = r.value
        changed |= st.narrow(r.n, lo * st.lo[r.d], hi * st.hi[r.d], "value x denominator")
        if lo > 0:
            changed |= st.narrow(r.d, st.lo[r.n] / hi, st.hi[r.n] / lo, "numerator / value")
    return changed


def _pool_step(st: _State, pools: list[PoolFact]) -> None:
    for p in pools:
        iv = interval(p.value, p.kind)
        if iv is None:
            continue
        ns = [("N", la, p.period, p.measure) for la in p.members]
        if p.kind == "count":
            k = len(p.members)
            st.add_sum(ns, k * (iv[0] - 0.5 if iv[0] == iv[1] else iv[0]),
                       k * (iv[1] + 0.5 if iv[0] == iv[1] else iv[1]))
            continue
        ds = [("D", la, p.period, p.measure) for la in p.members]
        den_lo, den_hi = sum(st.lo[d] for d in ds), sum(st.hi[d] for d in ds)
        st.add_sum(ns, iv[0] * den_lo, iv[1] * den_hi)


def _topic(vs: frozenset[Var]) -> tuple[str, ...]:
    """What a fact is about (period and measure, or table): facts about different
    topics share no variable, so only facts of one topic are compared."""
    return next(iter(vs))[2:] if next(iter(vs))[0] != "T" else next(iter(vs))[1:2]


def _sum_step(st: _State) -> bool:
    """Each sum fact narrows each of its variables; nested facts give their difference."""
    changed = False
    by_topic: dict[tuple[str, ...], list[tuple[frozenset[Var], tuple[float, float]]]] = \
        defaultdict(list)
    for vs, (lo, hi) in list(st.sums.items()):
        by_topic[_topic(vs)].append((vs, (lo, hi)))
        for v in vs:
            rest = [u for u in vs if u != v]
            r_lo, r_hi = sum(st.lo[u] for u in rest), sum(st.hi[u] for u in rest)
            how = "total minus parts" if rest else "sum"
            changed |= st.narrow(v, lo - r_hi, hi - r_lo, how)
    for facts in by_topic.values():
        for a, (alo, ahi) in facts:
            for b, (blo, bhi) in facts:
                if a < b:
                    before = st.sums.get(b - a)
                    st.add_sum(b - a, blo - ahi, bhi - alo)
                    changed |= st.sums.get(b - a) != before
    return changed


def _pinned_by_tables(tables: list[TableFact]) -> list[Recovery]:
    """Suppressed cells the tables' equations determine (totals assumed known): a cell
    is pinned when its unit vector lies in the span of the groups (rank test)."""
    found = []
    for t in tables:
        hidden = [c for c, d in t.cells.items() if d == "c"]
        if not hidden:
            continue
        a = np.array([[1.0 if c in g else 0.0 for c in hidden] for g in t.groups])
        if a.size == 0:
            continue
        rank = np.linalg.matrix_rank(a)
        for j, c in enumerate(hidden):
            e = np.zeros((1, len(hidden)))
            e[0, j] = 1.0
            if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
                found.append(Recovery(("T", t.name, c), None, "table totals and parts"))
    return found


def _table_sums(st: _State, tables: list[TableFact]) -> None:
    for t in tables:
        for c, d in t.cells.items():
            v = ("T", t.name, c)
            if d == "c":
                st.hidden.add(v)
            elif parse_number(d) is not None:
                st.shown.add(v)
                st.narrow(v, parse_number(d), parse_number(d), "shown")
        for g, total in zip(t.groups, t.totals, strict=False):
            if total is not None:
                st.add_sum([("T", t.name, c) for c in g], total, total)


def attack(rows: Iterable[Row], pools: Iterable[PoolFact] = (),
           tables: Iterable[TableFact] = (), threshold: int = 5) -> list[Recovery]:
    """Every hidden or small quantity the facts give away (see the module docstring)."""
    st = _State(threshold)
    row_vars = _load_rows(st, list(rows))
    _table_sums(st, list(tables))
    for _ in range(50):
        changed = _row_step(st, row_vars)
        _pool_step(st, list(pools))
        changed |= _sum_step(st)
        if not changed:
            break
    found = [Recovery(v, st.known(v), st.how.get(v, "?")) for v in sorted(st.hidden)
             if st.known(v) is not None]
    found += [Recovery(v, st.known(v), "shown although small") for v in sorted(st.shown)
              if 1 <= (st.known(v) or 0) <= threshold]
    found += _complements(st, row_vars)
    known = {r.what for r in found}
    return found + [r for r in _pinned_by_tables(list(tables)) if r.what not in known]


def _complements(st: _State, rows: list[_RowVars]) -> list[Recovery]:
    out = []
    for r in rows:
        kn, kd = st.known(r.n), st.known(r.d)
        if r.kind == "rate" and kn is not None and kd is not None and 1 <= kd - kn <= st.threshold:
            out.append(Recovery(("D-N", *r.n[1:]), kd - kn, "complement"))
    return out


def check_against(recoveries: list[Recovery], truth: dict[Var, int]) -> None:
    """The attacker's own sanity: what it derived is what is true (where truth is known)."""
    for r in recoveries:
        true = truth.get(r.what)
        if r.value is not None and true is not None and r.value != true:
            raise AssertionError(f"attacker derived {r.what} = {r.value}, truth {true} ({r.how})")


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")


# --------------------------------------------------------------------------------------
# Reading facts off what a report shows (a view's tables and sentences, or its HTML)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingPool:
    """A pool as a page states it: over ``asked``, or ``k`` of them (those shown)."""

    period: str
    measure: str
    kind: str
    asked: tuple[str, ...]
    value: str
    k: int | None


POOL_CELL = re.compile(r"^(?P<v>\S+)(?: \((?P<k>\d+) of (?P<n>\d+)\))?$")
SENTENCE = re.compile(
    r"^(?P<label>[^:]+): (?P<value>[\d.,%]+) for (?P<name>.+?) in the year ending [^(,]+?"
    r"(?: \((?P<num>[\d,]+) of (?P<den>[\d,]+)\))?"
    r"(?:, against (?P<pool>\S+)(?: on average)? across "
    r"(?:(?P<k>\d+) of its (?P<n>\d+) .+? with figures shown|its .+?))?"
    r"(?: and (?P<prev>\S+) (?:a year earlier|at \d+ \w+ \d{4}))?\. "
    r"(?:Higher|Lower|Neither)[^.]*\.$")
SUPPRESSED_SENTENCE = re.compile(r"^(?P<label>[^:]+): the figure for .+ is suppressed \(c\)")
NO_FIGURE_SENTENCE = re.compile(r"^(?P<label>[^:]+): (?:not applicable|no figure) for ")
#: A sentence setting the LA's own figure beside DfE's published ones (public figures):
#: the own figure is a fact; a count per 10,000 children is not a figure of the ledger.
PUBLISHED_SENTENCE = re.compile(
    r"^(?P<label>[^:]+?)(?P<per> \(per 10,000 children\))?: (?:(?P<value>[\d.,%]+) for .+?, .*"
    r"\(published for the year ending [^)]*\)(?:, in the \w+ quarter of all LAs)?\.|"
    r".+'s own figure is [a-z ]+ \((?P<symbol>[a-z])\), so it is not placed against its "
    r"comparators \(.*\)\.)$")


@dataclass
class Reader:
    """What a reader knows to read pages: labels and kinds (the catalogue, which the
    kit publishes), every LA's comparators (printed on its pages) and all LAs."""

    labels: dict[str, str]
    kinds: dict[str, str]
    comparators: dict[str, tuple[str, ...]]
    all_las: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)
    pending: list[PendingPool] = field(default_factory=list)
    tables: list[TableFact] = field(default_factory=list)

    def row(self, la: str, period: str, measure: str, **parts: str) -> None:
        self.rows.append(Row(la, period, measure, self.kinds[measure], **parts))

    def pool(self, period: str, measure: str, asked: Iterable[str], cell: str) -> None:
        m = POOL_CELL.match(cell.strip())
        if m is None:
            raise AssertionError(f"unreadable pooled figure {cell!r}")
        k = int(m["k"]) if m["k"] else None
        self.pending.append(PendingPool(period, measure, self.kinds[measure], tuple(asked),
                                        m["v"], k))

    def grid(self, table: list[dict[str, str]], la: str, period: str, prev: str | None) -> None:
        """The report grid (or a selection of its rows): value, pools, year earlier."""
        for r in table:
            measure = self.labels.get(r["Measure"])
            if measure is None:
                continue
            cols = list(r)
            self.row(la, period, measure, value=r[cols[3]])
            self.pool(period, measure, self.comparators[la], r[cols[4]])
            self.pool(period, measure, self.all_las, r["All LAs"])
            if prev is not None:
                self.row(la, prev, measure, value=r[cols[6]])

    def comparison(self, table: list[dict[str, str]], period: str, measure: str) -> None:
        for r in table:
            la = r["Local authority"].replace(" (this LA)", "")
            self.row(la, period, measure, numerator=r["Numerator"],
                     denominator=r["Denominator"], value=r["Value"])

    def sentence(self, text: str, la: str, period: str, prev: str | None) -> bool:
        """One sentence's facts; False when it is not a measure sentence."""
        text = " ".join(text.split())
        m = SENTENCE.match(text)
        if m is None:
            s = SUPPRESSED_SENTENCE.match(text)
            if s is not None and s["label"] in self.labels:
                self.row(la, period, self.labels[s["label"]], value="c")
                return True
            s = NO_FIGURE_SENTENCE.match(text)
            if s is not None and s["label"] in self.labels:
                return True
            return self.published_sentence(text, la, period)
        measure = self.labels[m["label"]]
        self.row(la, period, measure, value=m["value"], numerator=m["num"] or UNKNOWN,
                 denominator=m["den"] or UNKNOWN)
        if m["pool"]:
            cell = m["pool"] + (f" ({m['k']} of {m['n']})" if m["k"] else "")
            self.pool(period, measure, self.comparators[la], cell)
        if m["prev"] and prev is not None:
            self.row(la, prev, measure, value=m["prev"])
        return True

    def published_sentence(self, text: str, la: str, period: str) -> bool:
        """The own figure of a sentence against published comparators (``benchmarks``)."""
        m = PUBLISHED_SENTENCE.match(text)
        if m is None or m["label"] not in self.labels:
            return False
        if not m["per"] and m["symbol"] != "x":  # x: no figure, nothing stated
            self.row(la, period, self.labels[m["label"]], value=m["value"] or m["symbol"])
        return True

    def published_table(self, table: list[dict[str, str]], la: str, period: str) -> None:
        """The comparator table (``benchmarks.display_table``): the LA's own column is a
        fact; England, region and neighbours are DfE's published (public) figures."""
        for r in table:
            own = list(r.values())[1]
            if r["Measure"] in self.labels:
                if own != "x":  # x: the LA has no figure, nothing is stated
                    self.row(la, period, self.labels[r["Measure"]], value=own)
            elif not r["Measure"].endswith(" per 10,000 children"):
                raise AssertionError(f"unreadable comparator row {r}")

    def facts(self) -> tuple[list[Row], list[PoolFact], list[TableFact]]:
        """Rows, pools (their members resolved: a pool of ``k`` of ``n`` covers the
        members whose own figure is shown) and tables."""
        shown = {(r.la, r.period, r.measure) for r in self.rows
                 if r.value not in SYMBOL | {UNKNOWN}}
        pools = []
        for p in self.pending:
            members = tuple(la for la in p.asked if p.k is None or (la, p.period, p.measure) in shown)
            if p.k is not None and len(members) != p.k:
                raise AssertionError(f"pool {p} covers {members}: not the {p.k} it states")
            pools.append(PoolFact(p.period, p.measure, p.kind, members, p.value))
        return self.rows, pools, self.tables


def catalogue_reader(comparators: dict[str, tuple[str, ...]]) -> Reader:
    from csc_outcomes.measures.catalogue import CATALOGUE

    return Reader({m.label: mid for mid, m in CATALOGUE.items()},
                  {mid: m.kind for mid, m in CATALOGUE.items()}, comparators,
                  tuple(sorted(comparators)))


def records(frame) -> list[dict[str, str]]:
    return [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")]


def facts_from_views(views, measure_ids) -> tuple[list[Row], list[PoolFact], list[TableFact]]:
    """Everything a set of report views shows: grids, sentences, comparison tables."""
    reader = catalogue_reader({v.la_code: tuple(v.comparator_codes) for v in views})
    for v in views:
        period = str(v.period.date())
        prev = v.previous_period()
        prev_s = str(prev.date()) if prev is not None else None
        reader.grid(records(v.grid_table()), v.la_code, period, prev_s)
        for m in measure_ids:
            reader.comparison(records(v.comparison_table(m)), period, m)
            if not reader.sentence(v.sentence(m), v.la_code, period, prev_s):
                raise AssertionError(f"unreadable sentence: {v.sentence(m)}")
    return reader.facts()


# --------------------------------------------------------------------------------------
# Reading a published period: every LA's HTML pages
# --------------------------------------------------------------------------------------

TITLE = re.compile(r"(?:^|: )(?P<name>[^:]+?) \((?P<code>[A-Z0-9]+)\), year ending")
COMPARATORS = re.compile(r"Comparators: [\w ]+ \((?P<las>[A-Z0-9, ]*)\)")
MODEL_HEADERS = {"Odds ratio", "coef", "Assessment factor", "Term"}
#: Prose a page may hold with digits in it that states no figure (after labels, names,
#: codes and dates are taken out); anything else with a digit is an unread figure.
PROSE = [r"1 to 5", r"5 or fewer", r"\b99\.8%", r"\b95%", r"above 0% and below 100%",
         r"\d[\d.]*% \(\d+ of \d+\)", r"\b\d+\.\d+\.\d+\b", r"\(\d+ largest\)",
         r"(?:Attendance|Proportionality|Re-referral) model: [\d,]+ [\w-]+(?:, all LAs)?",
         r"\b3 or more\b", r"\b3\+", r"\b45 working days\b", r"\b95% confidence\b",
         r"\bsee .*\.md\b", r"\b\d+ LA\(s\) not shown\b", r"odds ratios above 1 mean",
         # an observed/expected ratio: withheld when its count is small, and the counts
         # and expected numbers it rests on are in the level table the attacker reads
         r"plan or care \d+\.\d+ times as often as expected",
         # published comparators (DfE's figures, public) and the words around them
         (r"\(\d[\d.]*% against the (?:England|all-LA) average of \d[\d.]*%: "
          r"(?:\d[\d.]* percentage points (?:above|below)|the same)\)"),
         r"\ball 153 LAs\b", r"\bper 10,000 children\b", r"\baged 0 to 17\b", r"\(up to 13\)",
         r"Licence v3\.0",
         # odds ratios in words (model outputs, P4)
         r"[\d.]+ times the odds", r"\d+% lower odds", r"\(\s*(?:95%\s*)?interval [\d.]+ to [\d.]+\)",
         r"\(\d+[A-Z]\):", r"re-referral within 12 months of closure",
         # the RAG summary's note on suppression (the threshold, not a figure)
         r"counts from 1 to the suppression threshold"]


#: The words of a question (``reporting.questions``) that state no figure of an LA's:
#: the rules' constants, and DfE's published figures (public).
QUESTION_PROSE = [r"\(99\.8%\)", r"\bz = -?[\d.]+", r"\|z\| [>=]+ [\d.]+",
                  r"around (?:the England average|the all-LA average) of [\d.]+%",
                  r"\([\d.,]+%? to [\d.,]+%?, year ending [^;]*; DfE, OGL v3\.0\)",
                  r"by more than [\d.]+ of its width",
                  r"more than [\d.]+ times their interquartile range",
                  r"its \d+ statistical neighbours'", r"\bper 10,000 children\b",
                  r"\b\d{1,2} \w+ \d{4}\b"]


#: DfE's definition notes (``published.contract.measure_notes``), listed under a
#: comparator table: numbers in them are ages and months, not figures.
DEFINITION_NOTES = {" ".join(n.split()) for n in measure_notes().values()}


#: A rate with its counts, as a question states it: ``0.0% (0 of 22)``.
RATE_OF = re.compile(r"(\d[\d.]*)% \((\d+) of (\d+)\)")


def implied_numerators(text: str, known: set) -> set[str]:
    """Numerators a question states that the shown rate and shown denominator already
    give (``0.0% (0 of 22)``: 0.0% of 22 is 0): nothing new to an attacker, who has both.
    Only when the rate, as shown (one decimal), pins the count to that one whole number."""
    out = set()
    for rate, num, den in RATE_OF.findall(text):
        if f"{rate}%" not in known or den not in known or int(den) == 0:
            continue
        fits = [n for n in range(int(den) + 1) if f"{100 * n / int(den):.1f}" == rate]
        if fits == [int(num)]:
            out.add(num)
    return out


def question_figures(text: str, reader: Reader, names: set[str]) -> list[str]:
    """The figures a question states that no table or sentence of the run shows (a
    question restates shown figures only: empty when it does)."""
    known = {d for r in reader.rows for d in (r.value, r.numerator, r.denominator)}
    text = " ".join(text.split())
    known |= implied_numerators(text, known)
    for word in sorted([*reader.labels, *names], key=len, reverse=True):
        text = re.sub(re.escape(word), " ", text, flags=re.IGNORECASE)  # labels in a sentence
    for pattern in QUESTION_PROSE:
        text = re.sub(pattern, " ", text)
    return [n for n in NUMBER.findall(text) if n not in known]


def _cells(table) -> list[list[str]]:
    return [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
            for tr in table.find_all("tr")]


def _previous(header: str, period: str) -> str | None:
    import pandas as pd

    if header == "A year earlier":
        p = pd.Timestamp(period)
        return str((p - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)).date())
    if header.startswith("At "):
        return str(pd.Timestamp(header[3:]).date())
    return None


def _read_table(reader: Reader, table, la: str, period: str, n: int) -> None:
    cells = _cells(table)
    caption = table.caption.get_text(" ", strip=True) if table.caption else ""
    header = cells[0] if cells else []
    if "Measure" in header and "All LAs" in header:
        prev = _previous(header[6], period)
        reader.grid([dict(zip(header, r, strict=True)) for r in cells[1:]], la, period, prev)
    elif "Published year" in header and "England" in header:
        reader.published_table([dict(zip(header, r, strict=True)) for r in cells[1:]], la, period)
    elif header == ["Local authority", "Numerator", "Denominator", "Value"]:
        measure = reader.labels[caption.split(":")[0]]
        reader.comparison([dict(zip(header, r, strict=True)) for r in cells[1:]], period, measure)
    elif "by level of intervention" in caption:
        # observed counts; "Expected from needs" is a model's sum of probabilities
        cols = [c for c in header[1:] if not c.startswith("Expected")]
        body = [r[:len(cols) + 1] for r in cells[2:] if len(r) == len(header)]
        reader.tables.append(_table_fact(f"{la}/{period}/{n}", cols, body))
    elif caption.startswith("Records behind the figures"):
        # the ingest's record counts: no published total ties them together (records
        # accepted are not shown), so their suppressed cells face no equation
        fact = _table_fact(f"{la}/{period}/{n}", header[1:2], [r[:2] for r in cells[1:]])
        reader.tables.append(TableFact(fact.name, fact.cells, (), ()))
    elif "by RAG rating" in caption:
        # each domain's colours add up to the children in care (assumed known)
        cols = header[1:]
        fact = _table_fact(f"{la}/{period}/{n}", cols, cells[1:])
        rows = tuple(tuple(f"{c}|{r[0]}" for c in cols) for r in cells[1:])
        reader.tables.append(TableFact(fact.name, fact.cells, rows, (None,) * len(rows)))
    elif header == ["Level of intervention against needs", "Assessments"]:
        reader.tables.append(_table_fact(f"{la}/{period}/{n}", header[1:], cells[1:]))
    elif not MODEL_HEADERS & set(header):
        raise AssertionError(f"{la}: a table the attacker cannot read: {caption!r} {header}")


def _table_fact(name: str, cols: list[str], body: list[list[str]]) -> TableFact:
    cells = {f"{c}|{r[0]}": r[1 + j] for r in body for j, c in enumerate(cols)}
    groups = tuple(tuple(f"{c}|{r[0]}" for r in body) for c in cols)
    return TableFact(name, cells, groups, (None,) * len(groups))


def read_period(folder) -> tuple[Reader, list[str]]:
    """Every fact on every LA's pages under ``reports/<period>/``, and the text left
    over with a digit in it that no reading explains (empty when the reading is whole)."""
    from bs4 import BeautifulSoup

    las = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name != "runs")
    soups = {(la, p.stem): BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser")
             for la in las for p in sorted((folder / la).glob("*.html"))}
    comparators = {}
    names = set()
    for (la, _), soup in soups.items():
        text = soup.get_text(" ", strip=True)
        found = COMPARATORS.search(text)
        if found:
            comparators[la] = tuple(c.strip() for c in found["las"].split(",") if c.strip())
        names |= {m["name"] for m in TITLE.finditer(soup.title.get_text() if soup.title else "")}
    reader = catalogue_reader(comparators)
    reader.all_las = tuple(las)
    period = folder.name
    leftovers: list[str] = []
    asked: list[tuple[str, str]] = []
    for (la, page), soup in soups.items():
        for tag in soup(["script", "style", "img", "svg"]):
            tag.decompose()
        for n, table in enumerate(soup.find_all("table")):
            _read_table(reader, table, la, period, n)
            table.decompose()
        prev_header = "A year earlier"
        for item in soup.find_all(["li", "p"]):
            if " ".join(item.get_text(" ").split()) in DEFINITION_NOTES:  # words, no figures
                item.decompose()
                continue
            if "What was seen:" in item.get_text():  # checked once every page is read
                asked.append((f"{la}/{page}", item.get_text(" ", strip=True)))
                item.decompose()
                continue
            if reader.sentence(item.get_text(" ", strip=True), la,
                               period, _previous(prev_header, period)):
                item.decompose()
        leftovers += [f"{la}/{page}: {t}" for t in _unexplained(soup.get_text(" "), reader, names)]
    leftovers += [f"{where}: a question states {extra}: {text}" for where, text in asked
                  if (extra := question_figures(text, reader, names))]
    return reader, leftovers


def _unexplained(text: str, reader: Reader, names: set[str]) -> list[str]:
    text = " ".join(text.split())
    for label in sorted(reader.labels, key=len, reverse=True):
        text = text.replace(label, " ")
    for name in names:
        text = text.replace(name, " ")
    text = re.sub(r"\b[A-Z]{3}\d{2}\b|\b\d{1,2} \w+ \d{4}\b", " ", text)
    for pattern in PROSE:
        text = re.sub(pattern, " ", text)
    return [m.group() for m in re.finditer(r".{0,40}\d.{0,40}", text)]
