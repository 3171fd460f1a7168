"""Statistical neighbours from DfE's model: each LA's ten most similar LAs.

DfE's model file is keyed by the old three-digit LA numbers; the EES files carry both
numbers and current codes, so the map between them is read from the published files
themselves rather than kept by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csc_outcomes.paths import published_dir
from csc_outcomes.published.contract import PublishedFileError, neighbour_model
from csc_outcomes.published.read import publication_files, read_rows

NEIGHBOUR_COLUMNS = ["la_code", "la_name", "rank", "neighbour_code", "neighbour_name", "closeness"]


def la_numbers(folder: str | Path | None = None) -> pd.DataFrame:
    """``old_la_code, la_code, la_name`` of every LA, as of the latest year published.

    Read from the first publication file that has LA rows (every EES file carries both).
    """
    frame = pd.DataFrame()
    for path, _ in publication_files(folder):
        header, rows = read_rows(path)
        frame = pd.DataFrame([f for _, f in rows], columns=header)
        frame = frame[frame["geographic_level"].str.strip() == "Local authority"]
        if len(frame):
            break
    frame = frame.sort_values("time_period").drop_duplicates("old_la_code", keep="last")
    return pd.DataFrame({"old_la_code": frame["old_la_code"].str.strip(),
                         "la_code": frame["new_la_code"].str.strip(),
                         "la_name": frame["la_name"].str.strip()})


def neighbour_file(folder: str | Path | None = None) -> Path:
    """The statistical neighbour model's file in ``folder`` (the latest, by name)."""
    folder = Path(folder) if folder else published_dir()
    found = sorted(folder.glob(neighbour_model().match))
    if not found:
        raise FileNotFoundError(f"no statistical neighbour model ({neighbour_model().match}) in {folder}")
    return found[-1]


def all_neighbours(folder: str | Path | None = None, model_file: Path | None = None) -> pd.DataFrame:
    """Every LA's neighbours in rank order (``NEIGHBOUR_COLUMNS``), by current LA code.

    ``model_file`` reads another model file against ``folder``'s LAs (to check a new one).
    """
    model = neighbour_model()
    path = model_file or neighbour_file(folder)
    header, rows = read_rows(path)
    numbers = la_numbers(folder)
    codes = dict(zip(numbers["old_la_code"], zip(numbers["la_code"], numbers["la_name"], strict=True),
                     strict=True))
    records = []
    for line, fields in rows:
        row = dict(zip(header, (f.strip() for f in fields), strict=True))
        for rank in range(1, model.count + 1):
            number = row.get(model.neighbour_column.format(rank=rank), "")
            for old in (row[model.key_column], number):
                if old not in codes:
                    raise PublishedFileError(path, "LA number not found in the published files",
                                             line=line, value=old)
            (code, name), (n_code, n_name) = codes[row[model.key_column]], codes[number]
            closeness = row.get(model.closeness_column.format(rank=rank), "")
            records.append({"la_code": code, "la_name": name, "rank": rank, "neighbour_code": n_code,
                            "neighbour_name": n_name, "closeness": closeness})
    return pd.DataFrame(records, columns=NEIGHBOUR_COLUMNS)


def statistical_neighbours(la_code: str, folder: str | Path | None = None) -> pd.DataFrame:
    """The LA's ten statistical neighbours in rank order, with their closeness."""
    table = all_neighbours(folder)
    mine = table[table["la_code"] == la_code.strip()]
    if mine.empty:
        raise ValueError(f"{la_code!r} is not an LA code in DfE's statistical neighbour model "
                         "(use the current nine-character code, e.g. E09000002)")
    return mine.reset_index(drop=True)


def current_la_codes(folder: str | Path | None = None) -> set[str]:
    """Today's LA codes: the LAs of DfE's statistical neighbour model."""
    return set(all_neighbours(folder)["la_code"])
