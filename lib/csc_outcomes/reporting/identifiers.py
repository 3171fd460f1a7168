"""What the leak scan looks for: every identifier and quasi-identifier the warehouse holds.

The scan (:mod:`csc_outcomes.reporting.leak_scan`) looks each word of a published file
up in an :class:`IdentifierSet`, so the set is built once per run and each value is
kept in the one form the scan compares: ids upper-cased, postcodes upper-cased without
spaces, dates as ``datetime.date``. What counts:

* ids (``IDENTIFIER_COLUMNS``): a child's ``CHILD``, ``LAchildID``, ``UPN`` and
  ``FormerUPN``, a contact's ``contact_id``, a social worker's ``SW_ID``;
* postcodes (``POSTCODE_COLUMNS``): ``HOME_POST``, ``PL_POST`` (full or partial, as held);
* dates (``DATE_COLUMNS``): dates of birth (the child's, the mother's child's) and of death.

``URN`` is not among them: it is Ofsted's number for a school, children's home or
provider, published by Ofsted itself, not a fact about a child.

Short ids would match ordinary numbers: an id shorter than ``MIN_IDENTIFIER_LENGTH``
characters, or all digits and shorter than ``MIN_NUMERIC_IDENTIFIER_LENGTH``, is not
looked for (the run's years and counts are numbers of that size); ``skipped`` counts them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes import warehouse as wh
from csc_outcomes.keys import TABLE_SOURCE

__all__ = [
    "DATE_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "MIN_IDENTIFIER_LENGTH",
    "MIN_NUMERIC_IDENTIFIER_LENGTH",
    "POSTCODE_COLUMNS",
    "REPORT_YEARS",
    "IdentifierSet",
    "identifiers_from_warehouse",
    "report_dates",
]

#: Columns whose values identify a child, a record about one, or a social worker.
IDENTIFIER_COLUMNS = ("CHILD", "LAchildID", "UPN", "FormerUPN", "contact_id", "SW_ID")
#: Columns holding a postcode (the child's home, the placement).
POSTCODE_COLUMNS = ("HOME_POST", "PL_POST")
#: Columns holding a date of birth or death: a child's, or that of a mother's child.
DATE_COLUMNS = ("DOB", "MC_DOB", "PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate")
#: Shorter ids are not looked for (they would match ordinary words and numbers).
MIN_IDENTIFIER_LENGTH = 4
#: All-digit ids shorter than this are not looked for (they are years and counts too).
MIN_NUMERIC_IDENTIFIER_LENGTH = 6
#: How many years of period ends and window starts before the period a report may show.
REPORT_YEARS = 10

K = TypeVar("K")
V = TypeVar("V")

_ALNUM = re.compile(r"[A-Za-z0-9]+")
_EDGES = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


def id_form(value: object) -> str:
    """The form an id is compared in: stripped of edge punctuation, upper-cased."""
    return _EDGES.sub("", str(value).strip()).upper()


def postcode_form(value: object) -> str:
    """The form a postcode is compared in: upper-cased, no spaces (``sw1a 1aa`` -> ``SW1A1AA``)."""
    return re.sub(r"\s+", "", str(value)).upper()


def _by_form(pairs: Iterable[tuple[K, str]], form: Callable[[K], V | None]) -> dict[V, str]:
    """value form -> the columns it was seen in, joined (``"CHILD, LAchildID"``).

    The joined names are shared between values (one string per combination), so a
    million ids cost a million keys, not a million labels too.
    """
    seen: dict[V, list[str]] = {}
    for value, column in pairs:
        key = form(value)
        if key is None or key == "":
            continue
        cols = seen.setdefault(key, [])
        if column not in cols:
            cols.append(column)
    labels: dict[str, str] = {}
    return {k: labels.setdefault(", ".join(v), ", ".join(v)) for k, v in seen.items()}


@dataclass(frozen=True)
class IdentifierSet:
    """Identifier forms to look up: ``ids`` and ``postcodes`` (form -> columns), ``dates``.

    ``max_parts`` is the most alphanumeric runs in one id (``AB-12`` has 2) and
    ``max_length`` the longest id: the scan joins at most that many neighbouring words,
    so it stays linear in the text. ``skipped`` counts ids too short to look for.
    """

    ids: Mapping[str, str] = field(default_factory=dict)
    postcodes: Mapping[str, str] = field(default_factory=dict)
    dates: Mapping[dt.date, str] = field(default_factory=dict)
    max_parts: int = 1
    max_length: int = 0
    skipped: int = 0
    #: What the scan found on each short line already read, in this process
    #: (``leak_text.text_hits``): not part of the set's value.
    lines_seen: dict[Hashable, tuple[Any, ...]] = field(default_factory=dict, compare=False,
                                                         repr=False)

    @classmethod
    def build(cls, ids: Iterable[tuple[object, str]] = (),
              postcodes: Iterable[tuple[object, str]] = (),
              dates: Iterable[tuple[object, str]] = ()) -> IdentifierSet:
        """A set from ``(value, column)`` pairs of each kind; blanks and short ids dropped."""
        all_ids = _by_form(ids, id_form)
        kept = {k: v for k, v in all_ids.items() if long_enough(k)}
        parts = [len(_ALNUM.findall(k)) for k in kept]
        return cls(ids=kept, postcodes=_by_form(postcodes, postcode_form),
                   dates=_by_form(dates, as_date),
                   max_parts=max(parts, default=1), max_length=max(map(len, kept), default=0),
                   skipped=len(all_ids) - len(kept))

    @classmethod
    def of(cls, identifiers: IdentifierSet | Iterable[str] | None) -> IdentifierSet:
        """``identifiers`` as a set: plain strings are ids (kind ``identifier``)."""
        if isinstance(identifiers, IdentifierSet):
            return identifiers
        return cls.build(ids=((i, "identifier") for i in identifiers or ()))

    def __len__(self) -> int:
        return len(self.ids) + len(self.postcodes) + len(self.dates)


def long_enough(form: str) -> bool:
    """Whether an id is specific enough to look for (see the module's note on short ids)."""
    if form.isdigit():
        return len(form) >= MIN_NUMERIC_IDENTIFIER_LENGTH
    return len(form) >= MIN_IDENTIFIER_LENGTH


def as_date(value: object) -> dt.date | None:
    """A date from a warehouse value (``date``, ``Timestamp``, ISO text); None when blank."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    stamp = pd.to_datetime(str(value), errors="coerce")
    return None if pd.isna(stamp) else stamp.date()


def identifiers_from_warehouse(path: str | Path, la_codes: Sequence[str] | None = None,
                               *, spill_dir: Path | None = None) -> IdentifierSet:
    """Every id, postcode and date of birth or death of ``la_codes`` (all LAs when None).

    Read column by column with ``SELECT DISTINCT`` (never whole tables), from every
    canonical table holding one of the columns, and from ``rejects`` where the rejected
    cell was an id or a postcode (a malformed UPN is still a child's UPN). The ids (5.3
    million at national scale, 18 million with the columns they are in) are put in their
    form and grouped in DuckDB (``id_forms``): a Python loop over them took 65-118 s.

    ``spill_dir``: an owner-only folder beside child-level data already (a run's own
    folder, which holds its copy of the warehouse), where DuckDB may put what does not fit
    in :data:`SPILL_MEMORY`: grouping a national warehouse's ids otherwise peaked at 3.5
    GB (1.2 GB so, in the same 21 s). Without it DuckDB keeps everything in memory.
    """
    kinds = {**dict.fromkeys(POSTCODE_COLUMNS, "post"), **dict.fromkeys(DATE_COLUMNS, "date")}
    found: dict[str, list[tuple[object, str]]] = {"post": [], "date": []}
    las = [c.strip().upper() for c in la_codes] if la_codes else None
    where = " AND list_contains($las, la_code)" if las else ""
    params = {"las": las} if las else {}
    with wh.connect(Path(path)) as con, spilling(con, spill_dir):
        columns = [(t, c) for t, c in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns").fetchall()
            if t in TABLE_SOURCE]
        for table, column in (tc for tc in columns if tc[1] in kinds):
            rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" '
                               f'WHERE "{column}" IS NOT NULL{where}', params).fetchall()
            found[kinds[column]] += [(r[0], column) for r in rows]
        rejected = con.execute(f'SELECT DISTINCT value, "column" FROM rejects WHERE '
                               f'list_contains($cols, "column") AND value IS NOT NULL{where}',
                               {**params, "cols": list(POSTCODE_COLUMNS)}).fetchall()
        sources = [(t, c) for t, c in columns if c in IDENTIFIER_COLUMNS]
        ids, max_parts, max_length, skipped = id_forms(con, sources, where, params)
    found["post"] += [(value, column) for value, column in rejected]
    return IdentifierSet(ids=ids, postcodes=_by_form(found["post"], postcode_form),
                         dates=_by_form(found["date"], as_date), max_parts=max_parts,
                         max_length=max_length, skipped=skipped)


#: DuckDB's working memory when it may spill (``identifiers_from_warehouse``).
SPILL_MEMORY = "1GB"


@contextlib.contextmanager
def spilling(con: duckdb.DuckDBPyConnection, folder: Path | None) -> Iterator[None]:
    """Let ``con`` work in :data:`SPILL_MEMORY`, spilling to ``folder`` (made owner-only:
    it holds children's ids while DuckDB groups them); nothing when ``folder`` is None.

    The settings are DuckDB's for the whole database, and every connection of a process
    to one file shares it (the workbook stage reads the warehouse while the set is being
    collected): the memory settings are put back when the block ends, not left to the
    next reader. The spill folder cannot be: DuckDB refuses to switch its temporary
    folder once something has spilled there ("Cannot switch temporary directory after
    the current one has been used"; a national run failed on it at its leak scan). So
    it stays the instance's, and an instance that has spilled already goes on spilling
    where it did, beside the database: for a run, in its own private folder too.
    """
    if folder is None:
        yield
        return
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    con.execute(f"SET memory_limit = '{SPILL_MEMORY}'; SET preserve_insertion_order = false")
    with contextlib.suppress(duckdb.NotImplementedException):  # spilled there already
        con.execute("SET temp_directory = $dir", {"dir": str(folder)})
    try:
        yield
    finally:
        con.execute("RESET memory_limit; RESET preserve_insertion_order")


def id_pairs_sql(sources: Sequence[tuple[str, str]], where: str) -> str:
    """SQL of every distinct (id as text, its column, the order the column was read in)
    of ``sources`` (table, column), then of ``rejects``' id cells, read last."""
    selects = [f'SELECT DISTINCT CAST("{c}" AS VARCHAR) AS v, \'{c}\' AS col, {i} AS ord '
               f'FROM "{t}" WHERE "{c}" IS NOT NULL{where}' for i, (t, c) in enumerate(sources)]
    cols = ", ".join(f"'{c}'" for c in IDENTIFIER_COLUMNS)
    selects.append(f'SELECT DISTINCT value, "column", {len(sources)} + list_position([{cols}], '
                   f'"column") FROM rejects WHERE "column" IN ({cols}) AND value IS NOT NULL{where}')
    return " UNION ALL ".join(selects)


#: ``id_form`` and ``long_enough`` in SQL, for text of ASCII characters only (DuckDB's
#: ``upper`` and Python's differ beyond it: ``straße``); other text calls the Python ones.
_FORM_SQL = ("CASE WHEN strlen(v) = length(v) THEN upper(regexp_replace(v, "
             "'^[^A-Za-z0-9]+|[^A-Za-z0-9]+$', '', 'g')) ELSE py_id_form(v) END")
_KEEP_SQL = ("CASE WHEN strlen(form) = length(form) THEN CASE WHEN regexp_full_match(form, "
             f"'[0-9]+') THEN length(form) >= {MIN_NUMERIC_IDENTIFIER_LENGTH} ELSE length(form) "
             f">= {MIN_IDENTIFIER_LENGTH} END ELSE py_long_enough(form) END")


def id_forms_sql(pairs_sql: str) -> str:
    """SQL of each id form, its columns joined in the order first read, and whether it is
    looked for, from ``id_pairs_sql``'s pairs: each (text, column) grouped before its
    form is taken (the same id is in a dozen tables), each form's columns after."""
    return (f"WITH pairs AS (SELECT v, col, min(ord) AS ord FROM ({pairs_sql}) GROUP BY v, col), "
            f"forms AS (SELECT {_FORM_SQL} AS form, col, ord FROM pairs), "
            "cols AS (SELECT form, col, min(ord) AS o FROM forms WHERE form <> '' "
            "GROUP BY form, col), "
            "labelled AS (SELECT form, string_agg(col, ', ' ORDER BY o) AS label FROM cols "
            f"GROUP BY form) SELECT form, label, {_KEEP_SQL} AS keep FROM labelled")


def id_forms(con: duckdb.DuckDBPyConnection, sources: Sequence[tuple[str, str]], where: str,
             params: Mapping[str, Any]) -> tuple[dict[str, str], int, int, int]:
    """(form -> columns, most words in one, longest, how many too short) of the ids of
    ``sources``: what ``IdentifierSet.build`` makes of the same pairs, computed in DuckDB.

    A form's columns are joined in the order they were first read (as ``_by_form``);
    the joined names are one string per combination, shared by the ids.
    """
    con.create_function("py_id_form", id_form, ["VARCHAR"], "VARCHAR")
    con.create_function("py_long_enough", long_enough, ["VARCHAR"], "BOOLEAN")
    con.execute(f"CREATE TEMP TABLE id_forms AS {id_forms_sql(id_pairs_sql(sources, where))}",
                params)
    try:
        parts, longest, skipped = con.execute(
            "SELECT max(len(regexp_extract_all(form, '[A-Za-z0-9]+'))) FILTER (WHERE keep), "
            "max(length(form)) FILTER (WHERE keep), count(*) FILTER (WHERE NOT keep) "
            "FROM id_forms").fetchone() or (None, None, 0)  # an aggregate: always one row
        labels = [r[0] for r in con.execute(
            "SELECT DISTINCT label FROM id_forms WHERE keep ORDER BY label").fetchall()]
        got = con.execute("SELECT form, list_position($labels, label) - 1 AS n FROM id_forms "
                          "WHERE keep", {"labels": labels}).fetchnumpy()
    finally:
        con.execute("DROP TABLE id_forms")
    ids = dict(zip(got["form"].tolist(), map(labels.__getitem__, got["n"].tolist()), strict=True))
    return ids, parts or 1, longest or 0, skipped


def report_dates(period_end: str | dt.date, started: str | dt.datetime | None = None,
                 *, years: int = REPORT_YEARS, today: dt.date | None = None) -> frozenset[dt.date]:
    """Dates a report legitimately shows, never flagged alone as a date of birth.

    Every month end in the ``years`` years up to ``period_end`` (period ends, the
    year-earlier column, monthly schedules), the day after each (window starts), the
    period end and its window start, and each day from the run's start to ``today``
    (run dates). A child born on one of them is still caught next to an identifier.
    """
    end = pd.Timestamp(period_end).normalize()
    ends = calendar.month_ends(calendar.add_years(end, -years), end)
    days = {d.date() for e in ends for d in (e, e + pd.Timedelta(days=1))}
    days |= {end.date(), calendar.window_start(end).date()}
    now = [today] if today else [dt.date.today(), dt.datetime.now(dt.UTC).date()]
    first = min([pd.Timestamp(started).date(), *now] if started else now)
    days |= {d.date() for d in pd.date_range(first, max(now), freq="D")}
    return frozenset(days)
