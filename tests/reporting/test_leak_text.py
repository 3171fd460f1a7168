"""Identifiers in one text: one look-up per word, whatever the number of identifiers
(issue 9's linear scan), dates read every way they can be, payloads decoded."""

from __future__ import annotations

import base64
import datetime as dt
import random
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
    """A dict that counts look-ups of one key (``get`` or ``[]``)."""

    lookups = 0

    def get(self, key, default=None):
        CountingDict.lookups += 1
        return super().get(key, default)

    def __getitem__(self, key):
        CountingDict.lookups += 1
        return super().__getitem__(key)


def _lookups(n_ids: int, text: str) -> int:
    ids = CountingDict({f"C{i:07d}": "CHILD" for i in range(n_ids)})
    held = IdentifierSet(ids=ids, max_parts=1, max_length=8)
    CountingDict.lookups = 0
    assert [h.value for h in text_hits(text, held)] == ["C0000007"] * text.count("C0000007")
    return CountingDict.lookups


def test_the_scan_is_linear_in_the_text_and_flat_in_the_identifiers():
    def rows(n: int) -> str:  # distinct lines: a repeated line is read once (below)
        return "".join(f"<tr><td>Children looked after</td><td>1,{i:03d}</td>"
                       "<td>C0000007 (22.6%)</td></tr>\n" for i in range(n))
    assert _lookups(10, rows(100)) == _lookups(100_000, rows(100))
    assert _lookups(10, rows(200)) == 2 * _lookups(10, rows(100))
    # the 16 words of a line are looked up at once (in C); one by one only the id found
    assert _lookups(10, rows(100)) == 100


def _word_by_word(text: str, ids: dict[str, str], postcodes: dict[str, str]) -> list[tuple]:
    """What the scan finds, found the slow way: every word (not a number's decimals)
    looked up in the ids, then each word and each pair a space or two apart in the
    postcodes (a pair found takes both words)."""
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        words = [(m.start(), m.group()) for m in re.finditer(r"[A-Za-z0-9]+", line)]
        found += [(n, s, w, "known_identifier") for s, w in words if w.upper() in ids
                  and not (s >= 2 and line[s - 1] == "." and line[s - 2].isdigit() and w.isdigit())]
        i = 0
        while i < len(words):
            (s, w), nxt = words[i], words[i + 1] if i + 1 < len(words) else None
            gap = line[s + len(w):nxt[0]] if nxt else "x"
            if nxt and len(gap) <= 2 and gap.isspace() and (w + nxt[1]).upper() in postcodes:
                found.append((n, s, line[s:nxt[0] + len(nxt[1])], "postcode"))
                i += 2
                continue
            if w.upper() in postcodes:
                found.append((n, s, w, "postcode"))
            i += 1
    return sorted(found)


def test_ids_and_postcodes_found_at_once_are_those_found_word_by_word():
    """Random lines of ids (any case, whole, as decimals, inside longer words),
    postcodes (one word, two, split by one to three spaces) and numbers: the scan, which
    reads a line word by word only for what its look-ups at once found, finds exactly
    what reading every word would."""
    rng = random.Random(11)
    ids = {"7123456": "LAchildID", "C0000007": "CHILD", "AB12345": "UPN"}
    postcodes = {"SW1A1AA": "HOME_POST", "AB12": "PL_POST"}
    held = IdentifierSet(ids=ids, postcodes=postcodes, max_parts=1, max_length=8)
    pieces = ["7123456", "0.7123456", "c0000007", "C0000007x", "SW1A 1AA", "sw1a  1aa",
              "SW1A   1AA", "sw1a1aa", "AB12", "ab12 345", "AB12345", "12.5", "rate", "<td>",
              "1,234", "SW1A", "1AA", "v.7123456", "7123456.0"]
    text = "\n".join(" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
                     for _ in range(400))
    got = sorted((h.line, h.offset, h.value, h.rule) for h in text_hits(text, held)
                 if h.rule in {"known_identifier", "postcode"})
    assert len(got) > 500 and got == _word_by_word(text, ids, postcodes)


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


def test_every_date_the_date_pattern_finds_on_a_line_is_read():
    """A line is read for dates only when a quick search says it may hold one (a year
    by a separator, or a month's name): random lines of dates in every form and of
    numbers that look like years give the dates the full pattern finds on each line."""
    rng = random.Random(5)
    pieces = ["31/03/2015", "3-1-2016", "31.03.2015", "2015-03-31", "2015\\/03\\/31",
              "31 March 2015", "1st Mar 2015", "March 31, 2015", "Sept 4 2019", "4 of JUNE 2012",
              "1984", "0.2019", "2019", "x", "-", "/", ".", " ", "3", "12", "20 ", "Dec", "may"]
    text = readable("\n".join("".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
                              for _ in range(3000)))
    expected = sorted((n, m.start(), m.group()) for n, line in enumerate(text.splitlines(), 1)
                      for m in DATE_PATTERN.finditer(line) if dates_in(m))
    days = {d: "DOB" for line in text.splitlines() for m in DATE_PATTERN.finditer(line)
            for d in dates_in(m)}
    held = IdentifierSet(dates=days)
    got = sorted((h.line, h.offset, h.value) for h in text_hits(text, held)
                 if h.rule == "date_of_birth")
    assert len(expected) > 1000 and got == expected


def test_a_short_line_is_read_once_a_process_and_found_wherever_it_is(monkeypatch):
    """Workbooks repeat their rows (every LA's comparator rows in each of 154): a line's
    findings are remembered, and given again with the line number where it is seen."""
    from csc_outcomes.reporting import leak_text

    ids = IdentifierSet.build(ids=[("1234567", "LAchildID")])
    calls = []
    real = leak_text.line_hits
    monkeypatch.setattr(leak_text, "line_hits", lambda *a: calls.append(a[0]) or real(*a))
    row = "SYN001\tRe-referrals\t1234567\t0.25"
    first = text_hits(f"head\n{row}", ids)
    again = text_hits(f"{row}\nother\n{row}", ids)
    assert [(h.line, h.value) for h in first] == [(2, "1234567")]
    assert [(h.line, h.value) for h in again] == [(1, "1234567"), (3, "1234567")]
    assert calls.count(row) == 1
    long_row = row + "\t" + "x" * leak_text.REMEMBERED_LINE
    text_hits(long_row, ids), text_hits(long_row, ids)
    assert calls.count(long_row) == 2  # a long line (a page of markup) is not kept
