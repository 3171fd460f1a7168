"""Shared text decoding for the readers: what real LA exports look like on disk.

* UTF-8 with or without a byte-order mark, UTF-16 with a BOM, else Windows-1252
  (the usual encoding of files saved by Excel on Windows);
* CRLF or lone CR line endings (normalised to LF);
* blank lines, spaces around values and header names (kept as rows here so that
  line numbers stay true, and dropped by the caller);
* rows with too many fields (reported with their line number, never dropped silently).

``read_csv_text`` returns every cell as a string; typing is the contracts' job.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_BOMS = [
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data`` to text with LF line endings; return ``(text, encoding)``."""
    encoding = None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            encoding = enc
            break
    if encoding is None:
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            encoding = "windows-1252"
    else:
        text = data.decode(encoding)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding


def read_text(path: Path) -> tuple[str, str]:
    """Read and decode a text file (see :func:`decode_bytes`)."""
    return decode_bytes(Path(path).read_bytes())


@dataclass
class RawCSV:
    """A CSV read as strings.

    ``frame`` holds the data rows (blank lines removed) with stripped header names as
    written; ``lines`` the 1-based line of each row in the file (1 = header);
    ``bad_lines`` the lines skipped for having more fields than the header.
    """

    frame: pd.DataFrame
    lines: np.ndarray
    encoding: str
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


_SKIP = re.compile(r"Skipping line (\d+): (.*)")


def read_csv_text(path: Path) -> RawCSV:
    """Read a CSV file as strings, keeping the source line of every data row.

    Raises ``ValueError`` when the file is empty or has no header row.
    """
    text, encoding = read_text(path)
    # leading blank lines before the header shift every line number: count them
    stripped = text.lstrip("\n")
    lead = len(text) - len(stripped)
    if not stripped.strip():
        raise ValueError("the file is empty (no header row)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = pd.read_csv(
            io.StringIO(stripped),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            on_bad_lines="warn",
            skipinitialspace=False,
        )
    bad: list[tuple[int, str]] = []
    for w in caught:
        for m in _SKIP.finditer(str(w.message)):
            bad.append((int(m.group(1)) + lead, m.group(2).strip()))
    df.columns = [str(c).strip() for c in df.columns]
    n_total = len(df) + len(bad)
    all_lines = np.arange(2, 2 + n_total) + lead
    lines = np.setdiff1d(all_lines, np.array([b[0] for b in bad], dtype=int), assume_unique=True)
    # blank (or whitespace-only) rows are dropped here, keeping line numbers true
    if len(df):
        blank = np.ones(len(df), dtype=bool)
        for c in df.columns:
            blank &= df[c].str.strip().eq("").to_numpy()
        if blank.any():
            df = df.loc[~blank]
            lines = lines[~blank]
    df = df.reset_index(drop=True)
    return RawCSV(frame=df, lines=lines.astype("int64"), encoding=encoding, bad_lines=bad)


def xml_source(path: Path):
    """What to hand to ``lxml.etree.iterparse`` for an XML file.

    The path itself when lxml can decode the file (a BOM, an encoding declaration or
    valid UTF-8); else the bytes recoded from Windows-1252 to UTF-8 (line numbers kept).
    """
    data = Path(path).read_bytes()
    head = data[:200].lower()
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or b"encoding=" in head.split(b"?>")[0]:
        return str(path)
    try:
        data.decode("utf-8")
        return str(path)
    except UnicodeDecodeError:
        return io.BytesIO(data.decode("cp1252", errors="replace").encode("utf-8"))


#: libxml2 keeps an element's line in 16 bits; past this it reads the line of the
#: element's first child instead (for a pretty-printed record, the next line).
_BIG_LINE = 65535


def start_line(el: Any) -> int:
    """The line of ``el``'s start tag, also past line 65,535 (every real LA's census).

    Past that line lxml's ``sourceline`` is where the element's leading text ends, so a
    problem in a record would be quoted one line late; the line breaks of that text are
    taken back off.
    """
    line = el.sourceline or 0
    if line >= _BIG_LINE and el.text:
        line -= el.text.count("\n")
    return line
