"""Small counts in the tables of published pages and workbooks.

Why. The leak scan's small-count rule read CSV files only, and a run publishes none: a
table of a report (HTML) or a workbook sheet (.xlsx) showing a count from 1 to 5 in a
``numerator``, ``denominator`` or ``count`` column was never caught. Disclosure control
shows such counts as ``c``; a table that shows one anyway (a notebook cell displaying
raw counts) is what this finds. Sentences are not read for numbers: a number in words
is indistinguishable from every year, rank and page number a report shows.

A table here is its rows of cell texts, each with its line. A row naming one of the
count columns is a header; the rows after it, to the next header, are its data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

#: A table: (line, cell texts) for each of its rows.
Table = list[tuple[int, list[str]]]


class _Grid:
    """One table being read: its rows as a grid, a merged cell's text in every place it
    covers (``rowspan``, ``colspan``), as a reader sees it under its column's header."""

    def __init__(self) -> None:
        self.rows: Table = []
        self.row: list[str] | None = None
        self.below: dict[int, tuple[int, str]] = {}  # column -> (rows still covered, text)

    def start_row(self, line: int) -> list[str]:
        self.end_row()
        self.row = []
        self.rows.append((line, self.row))
        return self.row

    def end_row(self) -> None:
        """Fill the columns cells of rows above still cover, to the row's end."""
        if self.row is not None:
            while any(col >= len(self.row) for col in self.below):
                if not self._fill_from_above(self.row):
                    self.row.append("")
            self.row = None

    def place(self, text: str, colspan: int, rowspan: int) -> None:
        # a cell outside any row: a row of its own
        row = self.row if self.row is not None else self.start_row(0)
        while self._fill_from_above(row):
            pass
        for _ in range(colspan):
            if rowspan > 1:
                self.below[len(row)] = (rowspan - 1, text)
            row.append(text)

    def _fill_from_above(self, row: list[str]) -> bool:
        col = len(row)
        if col not in self.below:
            return False
        left, text = self.below.pop(col)
        if left > 1:
            self.below[col] = (left - 1, text)
        row.append(text)
        return True


class _Tables(HTMLParser):
    """Every ``<table>``'s rows of ``<th>``/``<td>`` texts, with the line each row starts;
    cells and rows whose end tags HTML lets a page leave out are ended by what follows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self._open: list[_Grid] = []  # tables nest: a cell's own table is another
        self._cell: tuple[list[str], int, int] | None = None  # text, colspan, rowspan

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._end_cell()
            self._open.append(_Grid())
        elif tag == "tr" and self._open:
            self._end_cell()
            self._open[-1].start_row(self.getpos()[0])
        elif tag in {"td", "th"} and self._open:
            self._end_cell()
            spans = dict(attrs)
            self._cell = ([], _span(spans.get("colspan")), _span(spans.get("rowspan")))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"}:
            self._end_cell()
        elif tag == "tr" and self._open:
            self._end_cell()
            self._open[-1].end_row()
        elif tag == "table" and self._open:
            self._end_cell()
            grid = self._open.pop()
            grid.end_row()
            self.tables.append(grid.rows)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[0].append(data)

    def close(self) -> None:
        super().close()
        while self._open:  # tables the page left open
            self.handle_endtag("table")

    def _end_cell(self) -> None:
        if self._cell is not None and self._open:
            text, colspan, rowspan = self._cell
            self._open[-1].place(" ".join("".join(text).split()), colspan, rowspan)
        self._cell = None


def _span(value: str | None) -> int:
    """A ``colspan``/``rowspan`` as a count of 1 to 1000 (1 when absent or not a number)."""
    try:
        return min(max(int(str(value).strip()), 1), 1000)
    except ValueError:
        return 1


_TABLE_TAG = re.compile(r"<(/?)table\b", re.IGNORECASE)
#: An HTML comment (a ``</table>`` inside one ends nothing), and what blanks it.
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_NOT_NEWLINE = re.compile(r"[^\n]")
#: What a header cell's text loses before it is compared: a note in brackets ("Count
#: (n)"), zero-width and other format characters, a plural "s".
_HEADER_NOISE = re.compile(r"\(.*?\)|[\u200b-\u200f\u2060\ufeff]")


def html_tables(text: str) -> list[Table]:
    """The tables of an HTML page, each row's line the page's.

    Only the outermost ``<table>...</table>`` spans are parsed: a report is mostly its
    figures' base64 payloads, which parsing whole took 7 s over a national run's pages."""
    tables: list[Table] = []
    text = _COMMENT.sub(lambda m: _NOT_NEWLINE.sub(" ", m.group()), text)  # lines kept
    for start, end in _outer_spans(text):
        parser = _Tables()
        parser.feed(text[start:end])
        parser.close()
        first = text.count("\n", 0, start)  # the span's first line is the page's first + this
        tables += [[(line + first, cells) for line, cells in t] for t in parser.tables]
    return tables


def _outer_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each outermost table element; an unclosed one runs to the end."""
    depth, start = 0, 0
    for tag in _TABLE_TAG.finditer(text):
        if not tag.group(1):
            if depth == 0:
                start = tag.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                yield start, text.find(">", tag.end()) + 1 or len(text)
    if depth:
        yield start, len(text)


def sheet_table(text: str) -> Table:
    """A workbook sheet as ``leak_files.workbook_texts`` gives it (its title, then a row
    of tab-separated cells a line) as one table; lines numbered as the sheet's rows."""
    return [(i, line.split("\t")) for i, line in enumerate(text.split("\n")[1:], start=1)]


def column_name(cell: str) -> str:
    """A header cell's text as compared with the count columns' names."""
    name = " ".join(_HEADER_NOISE.sub("", cell).split()).lower()
    return name[:-1] if name.endswith("s") and name[:-1] in {"count", "numerator", "denominator"} else name


def small_counts(table: Table, columns: frozenset[str],
                 is_small: Callable[[str], bool]) -> Iterator[tuple[int, str]]:
    """``(line, column)`` of each cell from 1 to the threshold (``is_small``) in a count
    column (a header cell naming one of ``columns``: :func:`column_name`) or in a row
    whose label (first filled cell) names one (a table shown the other way round).

    The header is the first row naming a count column with no number in it; a later row
    replaces it only when it is such a row naming as many count columns. A data row that
    only mentions one (a unit column saying ``count``) is data: taken for a header, it
    turned the rest of the kit's own workbook sheet off."""
    counted: dict[int, str] = {}
    for line, cells in table:
        named = {i: c for i, c in enumerate(cells) if column_name(c) in columns}
        numbers = any(_is_number(c) for c in cells)
        if named and not numbers and len(named) >= len(counted):
            counted = named
            continue
        for i, header in counted.items():
            if i < len(cells) and is_small(cells[i]):
                yield line, header
        label = next((i for i, c in enumerate(cells) if c.strip()), None)
        if label is not None and label not in counted and column_name(cells[label]) in columns:
            for i, cell in enumerate(cells[label + 1:], start=label + 1):
                if i not in counted and is_small(cell):
                    yield line, cells[label].strip()


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip().replace(",", ""))
    except ValueError:
        return False
    return bool(cell.strip())
