"""Identifiers in one text: one look-up per word, whatever the number of identifiers
(issue 9's linear scan), dates read every way they can be, payloads decoded."""

from __future__ import annotations

import base64
import datetime as dt
import re

from csc_outcomes.reporting.identifiers import IdentifierSet
from csc_outcomes.reporting.leak_text import (
    DATE_PATTERN,
    base64_text,
    dates_in,
    readable,
    text_hits,
)


class CountingDict(dict):
    """A dict that counts look-ups."""

    lookups = 0

    def get(self, key, default=None):
        CountingDict.lookups += 1
        return super().get(key, default)


def _lookups(n_ids: int, text: str) -> int:
    ids = CountingDict({f"C{i:07d}": "CHILD" for i in range(n_ids)})
    held = IdentifierSet(ids=ids, max_parts=1, max_length=8)
    CountingDict.lookups = 0
    assert [h.value for h in text_hits(text, held)] == ["C0000007"] * text.count("C0000007")
    return CountingDict.lookups


def test_the_scan_is_linear_in_the_text_and_flat_in_the_identifiers():
    line = "<tr><td>Children looked after</td><td>1,234</td><td>C0000007 (22.6%)</td></tr>\n"
    words = len(re.findall(r"[A-Za-z0-9]+", line))  # tr, td, Children, ..., 1, 234, ...: 16
    assert _lookups(10, line * 100) == _lookups(100_000, line * 100)
    assert _lookups(10, line * 200) == 2 * _lookups(10, line * 100)
    # one look-up per word but the "6" of 22.6%: a fraction's digits are not looked up
    assert words == 16 and _lookups(10, line * 100) == 100 * (words - 1)


def test_a_numbers_decimals_are_not_an_identifier_but_its_whole_part_is():
    """A national run failed its leak scan on every workbook: of 5.3 million seven-digit
    ids, one was the decimals of a rate (``0.7123456``). A fraction is not an id; an id
    printed whole, or as a float (``7123456.0``), or beside a full stop, still is."""
    held = IdentifierSet(ids={"7123456": "LAchildID"}, max_parts=1, max_length=7)
    assert text_hits("<v>0.7123456</v> rate 12.7123456%", held) == []
    found = [h.value for h in text_hits("id 7123456. Then 7123456.0 and v.7123456", held)]
    assert found == ["7123456", "7123456", "7123456"]


def test_dates_are_read_day_first_and_month_first():
    def readings(text):
        return dates_in(DATE_PATTERN.search(text))

    assert readings("03/04/2012") == [dt.date(2012, 4, 3), dt.date(2012, 3, 4)]
    assert readings("15/06/2012") == [dt.date(2012, 6, 15)]
    assert readings("June 15th, 2012") == [dt.date(2012, 6, 15)]
    assert readings("31/02/2012") == []  # no such day: matched, never a date of birth


def test_base64_words_decode_only_to_text():
    assert base64_text(base64.b64encode(b"C1000001").decode()) == "C1000001"
    assert base64_text("Children") is None  # an ordinary word decodes to bytes, not text
    assert base64_text(base64.b64encode(bytes(range(40))).decode()) is None
    assert base64_text("QUJD") is None and base64_text("QUJD", strict=False) == "ABC"


def test_entities_and_json_escapes_are_decoded():
    assert readable("&#67;1&amp;2 \\u0043\\/x \\u000a") == "C1&2 C/x \\u000a"
