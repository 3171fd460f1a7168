"""Disclosure control for published tables, and a leak scan for published files.

The rules follow the Department for Education's (DfE) statistical publications
(``../shared/reference/sources.md``):

* **Primary suppression.** Any count from 1 to 5 (``threshold``, configurable) is shown
  as ``c``. Zero is shown as 0: it identifies nobody.
* **Secondary suppression.** A suppressed cell must not be recoverable by subtraction
  from a row or column total. The kit's rule, simple and vectorised: *within each group
  (a row, a column, or any set of cells that add up to a published total), if exactly
  one cell is suppressed, also suppress the smallest remaining cell of that group*
  (preferring a cell above zero; ties go to the first cell). The rule is applied to rows
  and columns alternately until nothing changes. Where a group holds a single cell
  besides the suppressed one and the total is also published, the total should be
  suppressed as well; pass the total as a member of the group to get that.
* **Rates.** A rate (or percentage) whose numerator or denominator is suppressed is
  suppressed too. A rate with a zero or missing denominator is ``z`` (not applicable).
* **Rounding.** National and regional figures are rounded to the nearest 10 (halves
  up); a figure that is not zero but rounds to zero is shown as ``k``.

Symbols (DfE's): ``c`` suppressed, ``z`` not applicable, ``x`` not available,
``k`` rounds to zero but is not zero.

The leak scan (:func:`scan_for_leaks`) reads published files (HTML, CSV, JSON,
notebooks, plain text, and PDF text when ``pypdf`` is installed) and reports every
suspected disclosure: a known child identifier or UPN, a UPN-shaped string, a date of
birth next to an identifier, a date-of-birth column, or a small count (1 to 5) left in
a ``numerator``/``denominator``/``count`` column of a CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SUPPRESSED",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "ROUNDS_TO_ZERO",
    "SYMBOLS",
    "DEFAULT_THRESHOLD",
    "is_small",
    "suppress_counts",
    "secondary_mask",
    "suppress_table",
    "suppress_rate",
    "round_to_base",
    "suppress_measures",
    "format_value",
    "Leak",
    "scan_for_leaks",
    "mask_text",
]

SUPPRESSED = "c"
NOT_APPLICABLE = "z"
NOT_AVAILABLE = "x"
ROUNDS_TO_ZERO = "k"

#: DfE symbols and their meanings (for table footnotes).
SYMBOLS: dict[str, str] = {
    SUPPRESSED: "suppressed to protect confidentiality (a count from 1 to 5, or a cell "
    "that would reveal one)",
    NOT_APPLICABLE: "not applicable (for example a rate with no one in the denominator)",
    NOT_AVAILABLE: "not available",
    ROUNDS_TO_ZERO: "rounds to zero, but is not zero",
}

#: Counts from 1 up to this number are suppressed.
DEFAULT_THRESHOLD = 5


# --------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------


def _numeric(values: Any) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(s, errors="coerce").astype("Float64")


def is_small(values: Any, threshold: int = DEFAULT_THRESHOLD) -> pd.Series:
    """Boolean Series: True where a count is from 1 to ``threshold`` (never for 0 or NA)."""
    v = _numeric(values)
    return ((v >= 1) & (v <= threshold)).fillna(False).astype(bool)


def _display_count(v: Any) -> Any:
    if pd.isna(v):
        return NOT_AVAILABLE
    f = float(v)
    return int(f) if f.is_integer() else f


def suppress_counts(values: Any, threshold: int = DEFAULT_THRESHOLD) -> pd.Series:
    """Counts for display: 1 to ``threshold`` become ``c``, missing becomes ``x``.

    Returns an object Series (ints and symbols) with the index of ``values``.

    >>> suppress_counts([0, 1, 5, 6]).tolist()
    [0, 'c', 'c', 6]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    small = is_small(s, threshold)
    out = pd.Series([_display_count(v) for v in _numeric(s)], index=s.index, dtype=object)
    out[small.to_numpy()] = SUPPRESSED
    return out


def secondary_mask(
    values: Any,
    suppressed: Any,
    groups: Any,
) -> pd.Series:
    """One pass of secondary suppression over the groups of a long table.

    ``values`` are the cell counts, ``suppressed`` the cells already suppressed, and
    ``groups`` the group key of each cell (a Series or array, or a list of Series/arrays
    for a compound key): cells of a group add up to a published total. In every group with
    exactly one suppressed cell, the smallest unsuppressed cell is suppressed as well
    (a cell above zero is preferred; ties go to the first). Returns the new mask.

    One pass can create a new single suppression in another grouping (a column, when
    ``groups`` were rows); :func:`suppress_table` iterates until stable.
    """
    v = _numeric(values).reset_index(drop=True)
    m = pd.Series(np.asarray(suppressed, dtype=bool))
    compound = (
        isinstance(groups, (list, tuple))
        and len(groups) > 0
        and all(isinstance(g, (pd.Series, pd.Index, np.ndarray, list, tuple)) for g in groups)
    )
    if compound:
        keys = [pd.Series(np.asarray(g)).reset_index(drop=True) for g in groups]
    else:
        keys = [pd.Series(np.asarray(groups)).reset_index(drop=True)]
    frame = pd.DataFrame({f"_g{i}": k for i, k in enumerate(keys)})
    gcols = list(frame.columns)
    frame["_v"] = v.fillna(np.inf).astype(float)
    frame["_m"] = m
    frame["_pos"] = np.arange(len(frame))
    n_supp = frame.groupby(gcols, dropna=False)["_m"].transform("sum")
    candidates = frame[(n_supp == 1) & ~frame["_m"]].copy()
    if candidates.empty:
        return pd.Series(m.to_numpy(), index=_index_of(values))
    # Prefer cells above zero (a zero protects little), then the smallest, then the first.
    candidates["_zero"] = candidates["_v"] <= 0
    candidates = candidates.sort_values(["_zero", "_v", "_pos"], kind="stable")
    chosen = candidates.drop_duplicates(subset=gcols, keep="first")["_pos"].to_numpy()
    new = m.to_numpy().copy()
    new[chosen] = True
    return pd.Series(new, index=_index_of(values))


def _index_of(values: Any) -> pd.Index:
    return values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(values))


def suppress_table(
    table: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    rows: bool = True,
    columns: bool = True,
    exclude: Sequence[str] = (),
    max_passes: int = 20,
) -> pd.DataFrame:
    """Primary and secondary suppression of a wide table of counts.

    Every numeric cell (columns in ``exclude`` are left alone, as labels) is a count.
    Counts 1 to ``threshold`` are suppressed; then, treating each row and each column
    as a group that sums to a published total, the secondary rule of
    :func:`secondary_mask` is applied alternately to rows and columns until nothing
    changes. Returns an object frame of ints and ``c``.
    """
    cols = [c for c in table.columns if c not in set(exclude)]
    counts = table[cols].apply(pd.to_numeric, errors="coerce")
    n_rows, n_cols = counts.shape
    flat = counts.to_numpy(dtype=float).ravel()  # row-major
    row_key = np.repeat(np.arange(n_rows), n_cols)
    col_key = np.tile(np.arange(n_cols), n_rows)
    mask = is_small(pd.Series(flat), threshold).to_numpy()
    for _ in range(max_passes):
        before = mask.copy()
        if rows:
            mask = secondary_mask(flat, mask, row_key).to_numpy()
        if columns:
            mask = secondary_mask(flat, mask, col_key).to_numpy()
        if (mask == before).all():
            break
    shown = [_display_count(v) for v in flat]
    out_vals = np.array(shown, dtype=object)
    out_vals[mask] = SUPPRESSED
    out = table.copy().astype(object)
    out[cols] = pd.DataFrame(
        out_vals.reshape(n_rows, n_cols), index=table.index, columns=cols, dtype=object
    )
    return out


def suppress_rate(
    value: Any,
    numerator: Any,
    denominator: Any,
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.Series:
    """Rates for display: ``c`` when numerator or denominator is from 1 to ``threshold``,
    ``z`` when the denominator is zero or missing or the rate is missing.

    Unsuppressed rates are returned as floats (object Series).
    """
    v = _numeric(value)
    num_small = is_small(numerator, threshold).to_numpy()
    den = _numeric(denominator)
    den_small = is_small(den, threshold).to_numpy()
    out = pd.Series(
        [float(x) if pd.notna(x) else NOT_APPLICABLE for x in v],
        index=_index_of(value),
        dtype=object,
    )
    no_den = (den.isna() | (den == 0)).fillna(True).to_numpy()
    out[no_den] = NOT_APPLICABLE
    out[num_small | den_small] = SUPPRESSED
    return out


def round_to_base(values: Any, base: int = 10) -> pd.Series:
    """Round counts to the nearest ``base`` (halves up), as DfE does for national and
    regional figures. A value that is not zero but rounds to zero becomes ``k``;
    missing values become ``x``.

    >>> round_to_base([0, 3, 5, 14, 15, 1234]).tolist()
    [0, 'k', 10, 10, 20, 1230]
    """
    v = _numeric(values)
    arr = v.to_numpy(dtype=float, na_value=np.nan)
    rounded = np.floor(arr / base + 0.5) * base
    out = []
    for orig, r in zip(arr, rounded):
        if np.isnan(orig):
            out.append(NOT_AVAILABLE)
        elif r == 0 and orig != 0:
            out.append(ROUNDS_TO_ZERO)
        else:
            out.append(int(r))
    return pd.Series(out, index=_index_of(values), dtype=object)


# --------------------------------------------------------------------------------------
# The measures table
# --------------------------------------------------------------------------------------


def _measure_kinds(measure_ids: Iterable[str]) -> dict[str, str]:
    """kind ('count' | 'rate' | 'ratio') of each measure, from the catalogue if present."""
    kinds: dict[str, str] = {}
    try:  # the catalogue is written by another module; fall back to inference
        from csc_outcomes.measures.catalogue import CATALOGUE  # type: ignore

        for mid in measure_ids:
            m = CATALOGUE.get(mid)
            kind = getattr(m, "kind", None) if m is not None else None
            if kind is not None:
                kinds[mid] = str(kind)
    except Exception:  # noqa: BLE001 - catalogue absent or of another shape
        pass
    return kinds


def format_value(value: Any, kind: str) -> str:
    """One display string: rates as percentages, counts with thousands separators,
    ratios to two decimals; symbols pass through."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return NOT_AVAILABLE
    if kind == "rate":
        return f"{100 * float(value):.1f}%"
    if kind == "ratio":
        return f"{float(value):.2f}"
    return f"{int(round(float(value))):,}"


def suppress_measures(
    measures_df: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Display-ready copy of the tidy measures table.

    Input columns: ``la_code, period_end, measure_id, numerator, denominator, value``.
    Output: the same columns, with ``numerator``/``denominator`` as ints or symbols
    (``c`` for 1 to ``threshold``; a count measure's empty denominator becomes ``z``),
    ``value`` as a number or a symbol (``c`` when its numerator or denominator is
    suppressed, or when a count measure's count is from 1 to ``threshold``; ``z`` when
    a rate has no denominator), plus ``kind``, ``display`` (the value formatted:
    ``22.6%``, ``1,234``, ``c``) and ``suppressed`` (bool).

    A measure's kind comes from ``kinds``, else the catalogue, else is inferred
    (empty denominator: count; otherwise rate when the value is within [0, 1], else
    ratio).
    """
    df = measures_df.copy()
    known = dict(_measure_kinds(df["measure_id"].dropna().unique()))
    if kinds:
        known.update(kinds)
    num = _numeric(df["numerator"]).set_axis(df.index)
    den = _numeric(df["denominator"]).set_axis(df.index)
    val = _numeric(df["value"]).set_axis(df.index)

    def infer(i: Any) -> str:
        if pd.isna(den.loc[i]):
            return "count"
        v = val.loc[i]
        return "rate" if pd.isna(v) or 0 <= v <= 1 else "ratio"

    kind = pd.Series(
        [known.get(mid) or infer(i) for i, mid in zip(df.index, df["measure_id"])],
        index=df.index,
        dtype=object,
    )
    is_count = (kind == "count").to_numpy()
    num_small = is_small(num, threshold)
    den_small = is_small(den, threshold)

    numerator = suppress_counts(num, threshold)
    denominator = suppress_counts(den, threshold)
    denominator[is_count & den.isna().to_numpy()] = NOT_APPLICABLE
    value = suppress_rate(val, num, den, threshold)
    # counts: the value is the count itself
    count_vals = suppress_counts(val.where(val.notna(), num), threshold)
    value[is_count] = count_vals[is_count].to_numpy()

    df["numerator"] = numerator
    df["denominator"] = denominator
    df["value"] = value
    df["kind"] = kind
    df["suppressed"] = (
        (df["value"] == SUPPRESSED) | num_small.to_numpy() | den_small.to_numpy()
    ).astype(bool)
    df["display"] = [format_value(v, k) for v, k in zip(df["value"], df["kind"])]
    return df


# --------------------------------------------------------------------------------------
# Leak scan
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    """One suspected disclosure in a published file.

    ``file`` the path; ``line`` 1-based line (or notebook cell and line, see
    ``location``); ``offset`` 0-based character offset within the line; ``matched`` the
    matched text, masked (first character kept); ``rule`` one of
    ``known_identifier``, ``upn_shape``, ``dob_near_identifier``, ``dob_column``,
    ``small_count``; ``detail`` a human sentence.
    """

    file: str
    line: int | None
    offset: int | None
    matched: str
    rule: str
    detail: str = ""
    location: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.location:
            where += f" ({self.location})"
        return f"{where}: {self.rule}: {self.matched} {self.detail}".rstrip()


#: A UPN is a check letter then 12 digits (a temporary UPN ends in a letter instead).
UPN_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|"
    "aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
#: Dates as they are written: 03/04/2012, 3-4-2012, 2012-04-03, 3 April 2012.
DATE_PATTERN = re.compile(
    r"(?<![0-9])(?:"
    r"[0-3]?[0-9][/.-][01]?[0-9][/.-](?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]"
    rf"|[0-3]?[0-9] (?:{_MONTHS}) (?:19|20)[0-9]{{2}}"
    r")(?![0-9])",
    re.IGNORECASE,
)
DOB_COLUMN_PATTERN = re.compile(
    r"^(?:dob|mc_dob|personbirthdate|expectedpersonbirthdate|date_?of_?birth|birth_?date)$",
    re.IGNORECASE,
)
SMALL_COUNT_COLUMNS = frozenset({"numerator", "denominator", "count"})

#: How near (in characters, on the same line) a date must be to an identifier.
DOB_WINDOW = 60

_TEXT_SUFFIXES = {".html", ".htm", ".txt", ".md", ".json", ".csv", ".svg", ".tex", ".qmd", ".xml", ".tsv"}


def mask_text(text: str) -> str:
    """Keep the first character, star the rest (``A123456789012`` -> ``A************``)."""
    if len(text) <= 1:
        return "*"
    return text[0] + "*" * (len(text) - 1)


def _iter_files(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file()))
        elif p.is_file():
            files.append(p)
    return files


def _identifier_pattern(identifiers: Iterable[str], min_length: int) -> re.Pattern | None:
    ids = sorted(
        {str(i).strip() for i in identifiers if i is not None and len(str(i).strip()) >= min_length},
        key=len,
        reverse=True,
    )
    if not ids:
        return None
    alt = "|".join(re.escape(i) for i in ids)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alt})(?![A-Za-z0-9])")


def _scan_text(
    file: str,
    text: str,
    id_pattern: re.Pattern | None,
    location: str = "",
    line_base: int = 0,
) -> list[Leak]:
    leaks: list[Leak] = []
    for lineno, line in enumerate(text.splitlines(), start=1 + line_base):
        hits: list[tuple[int, int]] = []
        if id_pattern is not None:
            for m in id_pattern.finditer(line):
                hits.append((m.start(), m.end()))
                leaks.append(
                    Leak(file, lineno, m.start(), mask_text(m.group()), "known_identifier",
                         "a known child identifier or UPN", location)
                )
        for m in UPN_PATTERN.finditer(line):
            if (m.start(), m.end()) not in hits:
                hits.append((m.start(), m.end()))
                leaks.append(
                    Leak(file, lineno, m.start(), mask_text(m.group()), "upn_shape",
                         "a UPN-shaped string (a letter and 12 digits)", location)
                )
        if hits:
            for m in DATE_PATTERN.finditer(line):
                near = any(
                    m.start() - e <= DOB_WINDOW and s - m.end() <= DOB_WINDOW for s, e in hits
                )
                if near:
                    leaks.append(
                        Leak(file, lineno, m.start(), mask_text(m.group()),
                             "dob_near_identifier", "a date next to an identifier", location)
                    )
    return leaks


def _scan_csv(file: str, text: str) -> list[Leak]:
    leaks: list[Leak] = []
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return leaks
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    small_cols = [i for i, h in enumerate(header) if h.lower() in SMALL_COUNT_COLUMNS]
    for h in header:
        if DOB_COLUMN_PATTERN.match(h):
            leaks.append(Leak(file, 1, None, h, "dob_column", "a date-of-birth column"))
    for lineno, row in enumerate(rows[1:], start=2):
        for i in small_cols:
            if i >= len(row):
                continue
            cell = row[i].strip()
            try:
                num = float(cell)
            except ValueError:
                continue
            if num.is_integer() and 1 <= num <= DEFAULT_THRESHOLD:
                leaks.append(
                    Leak(file, lineno, None, "*", "small_count",
                         f"an unsuppressed count from 1 to {DEFAULT_THRESHOLD} in column "
                         f"{header[i]!r}")
                )
    return leaks


def _notebook_texts(nb: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(location, text) for every cell source and every text output; images skipped."""
    out: list[tuple[str, str]] = []

    def join(x: Any) -> str:
        return "".join(x) if isinstance(x, list) else str(x)

    for n, cell in enumerate(nb.get("cells", []), start=1):
        out.append((f"cell {n} source", join(cell.get("source", ""))))
        for k, output in enumerate(cell.get("outputs", []) or [], start=1):
            if "text" in output:
                out.append((f"cell {n} output {k}", join(output["text"])))
            for mime, data in (output.get("data") or {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    text = join(data) if not isinstance(data, dict) else json.dumps(data)
                    out.append((f"cell {n} output {k} {mime}", text))
            if "traceback" in output:
                out.append((f"cell {n} output {k} traceback", "\n".join(output["traceback"])))
    return out


def _pdf_text(path: Path) -> str | None:
    try:
        from pypdf import PdfReader  # type: ignore
    except ImportError:
        return None
    try:
        reader = PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # noqa: BLE001 - a damaged PDF must not stop the scan
        warnings.warn(f"leak scan: {path} could not be read ({exc})", stacklevel=3)
        return ""


def scan_for_leaks(
    paths: Iterable[str | Path] | str | Path,
    identifiers: set[str] | None = None,
    *,
    min_identifier_length: int = 4,
) -> list[Leak]:
    """Scan published files (or folders, recursively) for suspected disclosures.

    Rules:

    * ``known_identifier``: any of ``identifiers`` (child ids, UPNs) as a whole token.
      Identifiers shorter than ``min_identifier_length`` are skipped (a two-digit id
      would match every table); pass ids long enough to be specific.
    * ``upn_shape``: a capital letter followed by 12 digits (or 11 digits and a letter)
      standing alone.
    * ``dob_near_identifier``: a date (``03/04/2012``, ``2012-04-03``, ``3 April 2012``)
      within 60 characters of an identifier hit on the same line.
    * ``dob_column``: a CSV column named like a date of birth (``DOB``,
      ``PersonBirthDate``, ``date_of_birth``).
    * ``small_count``: a value from 1 to 5 in a CSV column named ``numerator``,
      ``denominator`` or ``count``.

    Files read: ``.csv`` (text rules and column rules), ``.ipynb`` (cell sources and
    text outputs; image data skipped), ``.html``, ``.json``, ``.txt``, ``.md`` and
    other text files, ``.pdf`` through ``pypdf`` when installed (otherwise skipped with
    a warning). Other binary files (images) are skipped.
    """
    id_pattern = _identifier_pattern(identifiers or set(), min_identifier_length)
    leaks: list[Leak] = []
    for path in _iter_files(paths):
        name = str(path)
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            text = _pdf_text(path)
            if text is None:
                warnings.warn(
                    f"leak scan: {name} not scanned (install pypdf to read PDF text)",
                    stacklevel=2,
                )
                continue
            leaks.extend(_scan_text(name, text, id_pattern, location="pdf text"))
            continue
        if suffix == ".ipynb":
            raw = path.read_text(encoding="utf-8", errors="replace")
            try:
                nb = json.loads(raw)
            except json.JSONDecodeError:
                leaks.extend(_scan_text(name, raw, id_pattern))
                continue
            for location, text in _notebook_texts(nb):
                leaks.extend(_scan_text(name, text, id_pattern, location=location))
            continue
        if suffix not in _TEXT_SUFFIXES:
            try:
                raw_bytes = path.read_bytes()
            except OSError:
                continue
            if b"\x00" in raw_bytes[:4096]:
                continue  # binary (an image): nothing readable to scan
            text = raw_bytes.decode("utf-8", errors="replace")
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        leaks.extend(_scan_text(name, text, id_pattern))
        if suffix in {".csv", ".tsv"}:
            leaks.extend(_scan_csv(name, text if suffix == ".csv" else text.replace("\t", ",")))
    return leaks
