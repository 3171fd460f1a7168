"""Research extracts: parquet files with keyed pseudonyms, coarsened dates and districts.

For a research partner, from the warehouse:

* identifiers (``CHILD``, ``LAchildID``, ``UPN``, ``FormerUPN``, ``SW_ID``, ``contact_id``)
  are replaced by keyed pseudonyms, ``HMAC-SHA256(key, scope + "|" + value)`` as hex
  (the first 32 characters). The scope is the LA for LA-issued identifiers (so a child's
  ``CHILD`` in SSDA903 and ``LAchildID`` in the CIN census, which the LA issues from
  one system, link within the LA) and ``upn`` for pupil numbers (national, so they link
  across LAs). Without the key nobody can reverse or recompute a pseudonym; a
  different key gives different pseudonyms.
* dates of birth (``DOB``, ``MC_DOB``, ``PersonBirthDate``, ``ExpectedPersonBirthDate``)
  are coarsened to the first day of their month;
* postcodes (``HOME_POST``, ``PL_POST``) are cut to the district (outward code);
* free-text and lineage columns that could identify a person or a file are dropped
  (``DATE_PERM`` is kept as is: it is a date of an order, partially given);
* ``data_dictionary.md`` and ``data_dictionary.csv`` describe every column written.

The key comes from the ``CSC_OUTCOMES_PSEUDONYM_KEY`` environment variable or a key
file; the export refuses to run without one, with a weak key (shorter than
:data:`MIN_KEY_BYTES` bytes, or under :data:`MIN_KEY_BITS` bits by :func:`key_bits`:
a key of one repeated letter is not a secret), or with a key file inside the output
folder, found through any links (the key must never travel with the data).

The extract is child-level data, pseudonymised: its folder is created ``0700`` and its
files ``0600`` (owner only), whatever the umask.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from csc_outcomes import atomic, warehouse
from csc_outcomes.ingest.contracts import load_contract, str_dtype
from csc_outcomes.keys import TABLE_SOURCE

KEY_ENV = "CSC_OUTCOMES_PSEUDONYM_KEY"
LA_SCOPED_IDS = {"CHILD", "LAchildID", "SW_ID", "contact_id"}
NATIONAL_IDS = {"UPN", "FormerUPN"}
DOB_COLUMNS = {"DOB", "MC_DOB", "PersonBirthDate", "ExpectedPersonBirthDate"}
POSTCODE_COLUMNS = {"HOME_POST", "PL_POST"}
DROPPED_COLUMNS = {"source_file", "source_line"}
#: The shortest key accepted, in bytes (256 bits of key material at most).
MIN_KEY_BYTES = 32
#: The least information a key must carry by :func:`key_bits` (a 128-bit secret).
MIN_KEY_BITS = 128
#: Permissions of the extract's folder and files: the owner's only.
FOLDER_MODE, FILE_MODE = 0o700, 0o600
#: How to make a good key (said when one is refused).
KEY_ADVICE = "make one with: openssl rand -base64 48 (or openssl rand -hex 32)"


class ExportError(ValueError):
    """The export cannot run as asked (no key, key beside the data); the message says why."""


def key_bits(key: bytes) -> float:
    """A rough estimate of the information in ``key``: its length times the Shannon
    entropy of its bytes' frequencies. A key of one repeated byte carries 0 bits; a
    random key of 64 hexadecimal digits about 240."""
    counts = Counter(key)
    return -len(key) * sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())


def check_key(key: bytes) -> bytes:
    """``key`` when it is strong enough (see the module docstring); :class:`ExportError` else."""
    if not key:
        raise ExportError(f"no pseudonym key: set {KEY_ENV} or pass --key-file (the LA keeps the key; "
                          "it is never written beside the extract)")
    if len(key) < MIN_KEY_BYTES:
        raise ExportError(f"the pseudonym key is {len(key)} bytes, shorter than {MIN_KEY_BYTES}; {KEY_ADVICE}")
    if key_bits(key) < MIN_KEY_BITS:
        raise ExportError(f"the pseudonym key is too regular to be a secret (about {key_bits(key):.0f} "
                          f"bits, fewer than {MIN_KEY_BITS}: a repeated or patterned text); {KEY_ADVICE}")
    return key


def key_file_problem(key_file: Path, out_dir: Path | None) -> str | None:
    """Why ``key_file`` may not be used (None when it may): it must exist, and neither it
    nor what it links to may be inside the output folder (the key would travel with the
    data)."""
    if not key_file.is_file():
        return f"key file {key_file} not found (or not a regular file)"
    if out_dir is None:
        return None
    out = Path(out_dir).resolve()
    where = [key_file.resolve(), key_file.absolute().parent.resolve() / key_file.name]
    if any(out in p.parents for p in where):
        return (f"key file {key_file} is inside the output folder {out_dir} (following links); "
                "keep the key away from the data")
    return None


def load_key(key_file: Path | None = None, out_dir: Path | None = None) -> bytes:
    """The pseudonym key from ``key_file`` or the environment; refuse when absent or unsafe."""
    if key_file is not None:
        problem = key_file_problem(Path(key_file), out_dir)
        if problem:
            raise ExportError(problem)
        key = Path(key_file).read_bytes().strip()
    else:
        key = os.environ.get(KEY_ENV, "").strip().encode()
    return check_key(key)


def pseudonymise(values: pd.Series, scope: pd.Series | str, key: bytes) -> pd.Series:
    """Keyed pseudonyms of ``values`` (missing stays missing); computed once per distinct value."""
    scope_s = scope if isinstance(scope, pd.Series) else pd.Series(scope, index=values.index)
    pairs = pd.DataFrame({"s": scope_s.astype(str), "v": values.astype(object)})
    present = values.notna()
    uniq = pairs[present].drop_duplicates()
    mapping = {
        (s, v): hmac.new(key, f"{s}|{v}".encode(), hashlib.sha256).hexdigest()[:32]
        for s, v in zip(uniq["s"], uniq["v"], strict=True)
    }
    out = pd.Series(None, index=values.index, dtype=object)
    if present.any():
        keys = list(zip(pairs.loc[present, "s"], pairs.loc[present, "v"], strict=True))
        out[present] = [mapping[k] for k in keys]
    return out.astype(str_dtype())


def postcode_district(s: pd.Series) -> pd.Series:
    """The outward code of a postcode (``AB1 2CD`` -> ``AB1``; ``AB12CD`` -> ``AB1``)."""
    t = s.astype(str_dtype()).str.upper().str.strip()
    spaced = t.str.contains(" ", regex=False).fillna(False).astype(bool)
    compact = t.str.replace(r"\s+", "", regex=True)
    no_space = compact.where(compact.str.len() < 5, compact.str[:-3])
    return t.str.split(" ").str[0].where(spaced, no_space)


def transform(df: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """One canonical table made fit for a research partner."""
    out = df.drop(columns=[c for c in DROPPED_COLUMNS if c in df.columns]).copy()
    for c in out.columns:
        if c in LA_SCOPED_IDS:
            out[c] = pseudonymise(out[c], out["la_code"], key)
        elif c in NATIONAL_IDS:
            out[c] = pseudonymise(out[c], "upn", key)
        elif c in DOB_COLUMNS:
            out[c] = out[c].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        elif c in POSTCODE_COLUMNS:
            out[c] = postcode_district(out[c])
    return out


def _describe(table: str, col: str) -> tuple[str, str]:
    """A column's description and how the export treated it (for the data dictionary)."""
    if col == "la_code":
        return "LA code", "as supplied"
    if col == "collection_year":
        return "Collection year (the year the return ends, 31 March)", "as supplied"
    spec = load_contract(table).columns.get(col)
    desc = spec.description if spec and spec.description else (f"codes: {spec.codes}" if spec and spec.codes else "")
    if col in LA_SCOPED_IDS:
        how = "keyed pseudonym, HMAC-SHA256 within the LA (links CHILD and LAchildID of one LA)"
    elif col in NATIONAL_IDS:
        how = "keyed pseudonym, HMAC-SHA256 (links across LAs)"
    elif col in DOB_COLUMNS:
        how = "coarsened to the first day of the month"
    elif col in POSTCODE_COLUMNS:
        how = "cut to the postcode district (outward code)"
    else:
        how = "as supplied"
    return desc, how


def _dictionary_markdown(dd: pd.DataFrame) -> str:
    """The data dictionary as markdown: one section per table, one row per column."""
    intro = ("Keyed pseudonyms (HMAC-SHA256); the key stays with the LA. Dates of birth are "
             "coarsened to month, postcodes cut to district. Field names are DfE's own.")
    lines = ["# Research extract: data dictionary", "", intro, ""]
    for name in TABLE_SOURCE:
        sub = dd[dd["table"] == name]
        lines += [f"## {name} ({int(sub['rows'].iloc[0]) if len(sub) else 0} rows)", "",
                  "| column | dtype | description | treatment |", "|---|---|---|---|"]
        lines += [f"| {r.column} | {r.dtype} | {r.description} | {r.treatment} |" for r in sub.itertuples()]
        lines.append("")
    return "\n".join(lines)


def export(warehouse_path: Path, out_dir: Path, *, key: bytes, la_codes: list[str] | None = None) -> list[Path]:
    """Write one parquet per canonical table and the data dictionary; return the paths written.

    Every file is written atomically, so a reader never sees half an extract file; the
    folder is made ``0700`` and the files ``0600``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    out_dir.chmod(FOLDER_MODE)  # mkdir's mode is cut by the umask, and the folder may exist
    tables, _ = warehouse.read_tables(Path(warehouse_path), la_codes=la_codes)
    written = []
    dictionary = []
    for name in TABLE_SOURCE:
        df = transform(tables[name], key)
        path = out_dir / f"{name}.parquet"
        with atomic.atomic_path(path, mode=FILE_MODE) as tmp:
            df.to_parquet(tmp, index=False)
        written.append(path)
        for col in df.columns:
            desc, how = _describe(name, col)
            dictionary.append({"table": name, "column": col, "dtype": str(df[col].dtype),
                               "description": desc, "treatment": how, "rows": len(df)})
    dd = pd.DataFrame(dictionary)
    csv_path, md_path = out_dir / "data_dictionary.csv", out_dir / "data_dictionary.md"
    with atomic.atomic_path(csv_path, mode=FILE_MODE) as tmp:
        dd.to_csv(tmp, index=False)
    atomic.write_text(md_path, _dictionary_markdown(dd), mode=FILE_MODE)
    return [*written, csv_path, md_path]
