"""Identifiers in one text, found in one pass over its words: linear in the text.

A text is split into words (runs of ASCII letters and digits, each a whole token); each
word, and each run of up to ``IdentifierSet.max_parts`` neighbouring words, is looked
up in the set's ids; each word and each pair of words one space apart in its postcodes
(``SW1A 1AA`` or ``sw1a1aa``); each date a fixed pattern finds, in every reading
(``03/04/2012`` is 3 April or 4 March), in its dates. Nothing is compiled per
identifier, so a million ids cost a dictionary, not a million-branch pattern.

Before the words are read, the text is made readable: HTML entities and JSON escapes
(``&#67;``, ``\\u0043``, ``\\/``) decoded. Payloads are decoded and their text scanned
in turn (up to ``MAX_DEPTH`` deep): ``data:`` URIs that are not raster images or fonts
(SVG, JSON, HTML, text) and base64 runs that decode to text. SVG ``<text>`` split into
``<tspan>`` pieces is also read joined. Raster images are blanked, not read: their
pixels cannot be scanned (charts receive aggregate frames only, see ``plots``).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import html
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace

from csc_outcomes.reporting.identifiers import IdentifierSet

__all__ = ["DATE_PATTERN", "DOB_WINDOW", "MAX_DEPTH", "UPN_PATTERN", "Hit", "as_text",
           "base64_bytes", "base64_text", "dates_in", "readable", "text_hits"]

#: A word: the unit ids are matched as (a whole token, never part of a longer word).
TOKEN = re.compile(r"[A-Za-z0-9]+")
#: Every word and the word after it, when one or two whitespace characters apart (the
#: pairs ``_postcode_hits`` joins): a look-ahead, so that every pair is found.
_WORD_PAIR = re.compile(r"(?<![A-Za-z0-9])(?=([A-Za-z0-9]+)\s{1,2}([A-Za-z0-9]+))")
#: A UPN is a check letter then 12 digits (a temporary UPN ends in a letter instead).
UPN_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")

_MONTH_NAMES = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
    "aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_MONTHS = {m: n for n, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_SEP = r"\\?[/.-]"
_YEAR = r"(?:19|20)[0-9]{2}"
#: Dates as people write them: 31/03/2015, 31-3-2015, 31.03.2015, 2015-03-31,
#: 31 March 2015, 31st Mar 2015, March 31, 2015 (``\/`` too, as JSON may write it).
DATE_PATTERN = re.compile(
    r"(?<![0-9])(?:"
    rf"(?P<a>[0-9]{{1,2}}){_SEP}(?P<b>[0-9]{{1,2}}){_SEP}(?P<y1>{_YEAR})"
    rf"|(?P<y2>{_YEAR}){_SEP}(?P<m2>[0-9]{{1,2}}){_SEP}(?P<d2>[0-9]{{1,2}})"
    rf"|(?P<d3>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?[\s-]+(?P<n3>{_MONTH_NAMES})\.?[\s,-]+"
    rf"(?P<y3>{_YEAR})"
    rf"|(?<![A-Za-z])(?P<n4>{_MONTH_NAMES})\.?\s+(?P<d4>[0-9]{{1,2}})(?:st|nd|rd|th)?,?\s+"
    rf"(?P<y4>{_YEAR})"
    r")(?![0-9])",
    re.IGNORECASE,
)
#: What every ``DATE_PATTERN`` match holds: a year, and a separator next to it (day
#: first, year first) or a month's name. A line without both holds no date, and these
#: plain searches are many times faster than the date pattern: a workbook's rows are
#: full of numbers that look like years (``1984`` children, ``0.2019``), a page's lines
#: of words with a month's name in them (``summary``, ``separate``).
_YEAR_LIKE = re.compile(_YEAR)
_DATE_HINT = re.compile(rf"[/.-]{_YEAR}|{_YEAR}\\?[/.-]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
                        r"nov|dec", re.IGNORECASE)
#: A time right after a date makes it a timestamp (a run's start), not a date of birth.
_TIME_AFTER = re.compile(r"(?:T|,?\s{1,2})[0-2]?[0-9]:[0-5][0-9]")
#: How near (in characters, on the same line) a date must be to an identifier.
DOB_WINDOW = 60
#: How many payloads deep the scan decodes (base64 inside a data: URI inside HTML ...).
MAX_DEPTH = 3

_DATA_URI = re.compile(r"data:(?P<mime>[\w.+-]*/[\w.+-]*)?(?P<params>(?:;[\w.+-]+(?:=[\w.+-]*)?)*),"
                       r"(?P<data>[^\s\"'<>)]*)", re.IGNORECASE)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{8,}={0,2}(?![A-Za-z0-9+/=_-])")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\/")
_SVG_TEXT = re.compile(r"<text\b[^>]{0,1000}>((?:[^<]|<(?!/text>)){0,4000})</text>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
#: Payloads holding pixels or glyphs only, by declared type, or binary with the first
#: bytes of PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, WOFF, WOFF2, TrueType, OpenType: not read.
_UNREADABLE = ("image/", "font/", "application/font", "application/x-font",
               "application/vnd.ms-font", "application/vnd.ms-opentype")
_PIXELS_OR_GLYPHS = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM", b"II*\x00",
                     b"MM\x00*", b"\x00\x00\x01\x00", b"wOFF", b"wOF2", b"\x00\x01\x00\x00",
                     b"OTTO")


#: The longest line whose findings are remembered (``seen_line_hits``): table rows, not
#: a report's pages of markup.
REMEMBERED_LINE = 400


@dataclass(frozen=True)
class Hit:
    """One suspected disclosure in a text.

    ``value`` the text matched (unmasked: the caller masks it); ``rule``
    ``known_identifier``, ``postcode``, ``date_of_birth``, ``upn_shape``,
    ``dob_near_identifier`` or ``unscannable``; ``kind`` the warehouse columns the value
    came from (``UPN``, ``SW_ID``, ``DOB``); ``via`` how the text was reached
    (``base64``, ``data: URI (image/svg+xml)``, ``svg text``), empty when read directly.
    """

    line: int
    offset: int | None
    value: str
    rule: str
    kind: str = ""
    via: str = ""


def readable(text: str) -> str:
    """``text`` with HTML entities and JSON ``\\uXXXX``/``\\/`` escapes decoded."""
    if "&" in text:
        text = html.unescape(text)
    if "\\" in text:
        text = _JSON_ESCAPE.sub(_unescape_json, text)
    return text


def _unescape_json(m: re.Match[str]) -> str:
    if m.group(1) is None:
        return "/"
    char = chr(int(m.group(1), 16))
    return char if char.isprintable() else m.group(0)  # a newline escape stays on its line


def text_hits(text: str, ids: IdentifierSet, shown: frozenset[dt.date] = frozenset(),
              depth: int = 0) -> list[Hit]:
    """Every suspected disclosure in ``text``, line by line (1-based), without repeats."""
    text = readable(text)
    hits: list[Hit] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        hits += seen_line_hits(line, lineno, ids, shown, depth)
    hits += _svg_text_hits(text, ids, shown, depth)
    return list(dict.fromkeys(hits))


def seen_line_hits(line: str, lineno: int, ids: IdentifierSet, shown: frozenset[dt.date],
                   depth: int) -> list[Hit]:
    """:func:`line_hits`, read once a process for a line up to :data:`REMEMBERED_LINE`
    characters (``IdentifierSet.lines_seen``): what a line holds depends on its text
    alone, and the workbooks repeat their rows (every LA's comparator rows, in each of a
    national run's 154 workbooks: most of the scan's time)."""
    if len(line) > REMEMBERED_LINE:
        return line_hits(line, lineno, ids, shown, depth)
    key = (line, shown, depth)
    if key not in ids.lines_seen:
        ids.lines_seen[key] = tuple(line_hits(line, 0, ids, shown, depth))
    return [replace(h, line=lineno) for h in ids.lines_seen[key]]


def line_hits(line: str, lineno: int, ids: IdentifierSet, shown: frozenset[dt.date],
              depth: int) -> list[Hit]:
    """Ids, UPN shapes, postcodes, dates and decoded payloads on one line."""
    payloads, line = _data_uris(line)
    known, may_postcode = _may_hold(line, ids)
    hits = _identifier_hits(line, lineno, known, ids)
    spans = [(h.offset or 0, (h.offset or 0) + len(h.value)) for h in hits]
    if may_postcode:
        hits += _postcode_hits(line, lineno, [(m.start(), m.end()) for m in TOKEN.finditer(line)],
                               ids)
    hits += _date_hits(line, lineno, ids, shown, spans)
    payloads += [(m.start(), "base64", text) for m in _BASE64.finditer(line)
                 if (text := base64_text(m.group())) is not None]
    for start, via, decoded in payloads:
        if decoded is None:
            hits.append(Hit(lineno, start, via, "unscannable", "", via))
        elif depth < MAX_DEPTH:
            hits += [replace(h, line=lineno, offset=start, via=_joined(via, h.via))
                     for h in text_hits(decoded, ids, shown, depth + 1)]
    return hits


def _may_hold(line: str, ids: IdentifierSet) -> tuple[set[str] | None, bool]:
    """(the known ids among ``line``'s words, whether a postcode may be on it): look-ups in C.

    Exact, never a guess: the line's words (ASCII runs, so upper-casing them joined is
    the same as one by one) and its pairs of words one or two spaces apart are looked up
    in the sets at once; only the words found are then looked for in the line (None:
    ids of several words are held, so every run of words is read). Most lines of a page
    hold neither; a line of a workbook holds thousands of numbers, and reading each in
    Python because one rate's decimals were someone's id was most of the national scan.
    """
    words = TOKEN.findall(line)
    if not words:
        return set(), False
    upper = "\n".join(words).upper().split("\n")
    known = (None if ids.max_parts > 1 else ids.ids.keys() & upper) if ids.ids else set()
    may_postcode = False
    if ids.postcodes:
        pairs = "\n".join(a + b for a, b in _WORD_PAIR.findall(line)).upper().split("\n")
        may_postcode = not (ids.postcodes.keys().isdisjoint(upper)
                            and ids.postcodes.keys().isdisjoint(pairs))
    return known, may_postcode


def _joined(outer: str, inner: str) -> str:
    return f"{outer} > {inner}" if inner else outer


def _identifier_hits(line: str, lineno: int, known: set[str] | None,
                     ids: IdentifierSet) -> list[Hit]:
    """Known ids as whole tokens (``known`` of them, or every run of words when None,
    longest first), then UPN-shaped strings."""
    hits: list[Hit] = []
    if known is None:
        tokens = [(m.start(), m.end()) for m in TOKEN.finditer(line)
                  if not is_fraction(line, m.start(), m.end())]
        hits = _run_hits(line, lineno, tokens, ids)
    elif known:
        hits = [Hit(lineno, m.start(), m.group(), "known_identifier", ids.ids[m.group().upper()])
                for m in _whole_words(known).finditer(line)
                if not is_fraction(line, m.start(), m.end())]
    found = {(h.offset, (h.offset or 0) + len(h.value)) for h in hits}
    hits += [Hit(lineno, m.start(), m.group(), "upn_shape") for m in UPN_PATTERN.finditer(line)
             if (m.start(), m.end()) not in found]
    return hits


def _whole_words(words: set[str]) -> re.Pattern[str]:
    """A pattern of ``words`` as whole tokens, in any case (ASCII only, as ``TOKEN``)."""
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, sorted(words)))
                      + r")(?![A-Za-z0-9])", re.IGNORECASE | re.ASCII)


def _run_hits(line: str, lineno: int, tokens: list[tuple[int, int]],
              ids: IdentifierSet) -> list[Hit]:
    """Known ids of up to ``ids.max_parts`` neighbouring words, the longest run first."""
    hits: list[Hit] = []
    for i, (start, _) in enumerate(tokens):
        for j in range(min(i + ids.max_parts, len(tokens)) - 1, i - 1, -1):
            end = tokens[j][1]
            if end - start > ids.max_length:
                continue
            kind = ids.ids.get(line[start:end].upper())
            if kind is not None:
                hits.append(Hit(lineno, start, line[start:end], "known_identifier", kind))
                break
    return hits


def is_fraction(line: str, start: int, end: int) -> bool:
    """Whether ``line[start:end]`` is the digits after a number's decimal point
    (``0.1234567``): a fraction, not an identifier. With millions of numeric ids (a
    national run's 5.3 million are mostly seven digits) most runs of seven decimals are
    someone's id, and every workbook of rates failed the scan. The whole part
    (``1234567.0``: an id printed as a float) is still read."""
    return (start >= 2 and line[start - 1] == "." and line[start - 2].isdigit()
            and line[start:end].isdigit())


def _postcode_hits(line: str, lineno: int, tokens: list[tuple[int, int]],
                   ids: IdentifierSet) -> list[Hit]:
    """Postcodes as one word (``SW1A1AA``) or two words a space or two apart (``SW1A 1AA``)."""
    hits: list[Hit] = []
    if not ids.postcodes:
        return hits
    i = 0
    while i < len(tokens):
        start, end = tokens[i]
        word = line[start:end].upper()
        if i + 1 < len(tokens):
            nxt, last = tokens[i + 1]
            gap = line[end:nxt]
            kind = (ids.postcodes.get(word + line[nxt:last].upper())
                    if len(gap) <= 2 and gap.isspace() else None)
            if kind is not None:
                hits.append(Hit(lineno, start, line[start:last], "postcode", kind))
                i += 2
                continue
        kind = ids.postcodes.get(word)
        if kind is not None:
            hits.append(Hit(lineno, start, line[start:end], "postcode", kind))
        i += 1
    return hits


def dates_in(m: re.Match[str]) -> list[dt.date]:
    """Every valid reading of a ``DATE_PATTERN`` match (day first, then month first)."""
    g = m.groupdict()
    if g["y1"]:
        parts = [(g["y1"], g["b"], g["a"]), (g["y1"], g["a"], g["b"])]
    elif g["y2"]:
        parts = [(g["y2"], g["m2"], g["d2"])]
    elif g["y3"]:
        parts = [(g["y3"], _MONTHS[g["n3"][:3].lower()], g["d3"])]
    else:
        parts = [(g["y4"], _MONTHS[g["n4"][:3].lower()], g["d4"])]
    days = []
    for y, mo, d in parts:
        try:
            days.append(dt.date(int(y), int(mo), int(d)))
        except ValueError:
            continue
    return list(dict.fromkeys(days))


def _date_hits(line: str, lineno: int, ids: IdentifierSet, shown: frozenset[dt.date],
               spans: list[tuple[int, int]]) -> list[Hit]:
    """A warehouse date not shown legitimately and not a timestamp; any date by an id."""
    hits: list[Hit] = []
    if not (_YEAR_LIKE.search(line) and _DATE_HINT.search(line)):
        return hits
    for m in DATE_PATTERN.finditer(line):
        born = [d for d in dates_in(m) if d in ids.dates and d not in shown]
        if born and not _TIME_AFTER.match(line, m.end()):
            hits.append(Hit(lineno, m.start(), m.group(), "date_of_birth", ids.dates[born[0]]))
        elif any(m.start() - e <= DOB_WINDOW and s - m.end() <= DOB_WINDOW for s, e in spans):
            hits.append(Hit(lineno, m.start(), m.group(), "dob_near_identifier"))
    return hits


def _data_uris(line: str) -> tuple[list[tuple[int, str, str | None]], str]:
    """(start, description, decoded text or None if unreadable) of each ``data:`` URI that
    is not an image or font, and the line with every URI's payload blanked."""
    found: list[tuple[int, str, str | None]] = []
    if "data:" not in line.lower():
        return found, line
    pieces, last = [], 0
    for m in _DATA_URI.finditer(line):
        mime = (m.group("mime") or "text/plain").lower()
        if mime == "image/svg+xml" or not mime.startswith(_UNREADABLE):
            data = urllib.parse.unquote(m.group("data"))
            raw = (base64_bytes(data) if ";base64" in m.group("params").lower()
                   else data.encode("utf-8", errors="surrogateescape"))
            text = None if raw is None else as_text(raw, strict=False)
            if text is not None or raw is None or not raw.startswith(_PIXELS_OR_GLYPHS):
                found.append((m.start(), f"data: URI ({mime})", text))
        pieces += [line[last:m.start("data")], " " * len(m.group("data"))]
        last = m.end("data")
    return found, "".join([*pieces, line[last:]])


def base64_bytes(word: str) -> bytes | None:
    """The bytes a base64 (or URL-safe base64) word decodes to; None when it is not base64."""
    urlsafe = "-" in word or "_" in word
    if urlsafe and ("+" in word or "/" in word):
        return None
    body = word.rstrip("=")
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4),
                                altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def as_text(raw: bytes, *, strict: bool = True) -> str | None:
    """``raw`` as UTF-8 text of printable characters and line breaks; None otherwise.

    ``strict`` (a bare word in running text) also refuses a text shorter than four
    characters, which ordinary words of eight letters often decode to.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable()
    return text if printable and (len(text) >= 4 or not strict) else None


def base64_text(word: str, *, strict: bool = True) -> str | None:
    """The text a base64 word decodes to (see :func:`as_text`); None when it is not text."""
    raw = base64_bytes(word)
    return None if raw is None else as_text(raw, strict=strict)


def _svg_text_hits(text: str, ids: IdentifierSet, shown: frozenset[dt.date],
                   depth: int) -> list[Hit]:
    """SVG ``<text>`` whose words are split across ``<tspan>`` pieces, read joined."""
    if "<text" not in text and "<TEXT" not in text:
        return []
    starts = list(_line_starts(text))
    hits: list[Hit] = []
    for m in _SVG_TEXT.finditer(text):
        if "<" not in m.group(1):
            continue  # read as it stands already
        lineno = bisect.bisect_right(starts, m.start())
        hits += [replace(h, line=lineno, offset=None, via=_joined("svg text", h.via))
                 for h in text_hits(_TAG.sub("", m.group(1)), ids, shown, depth + 1)]
    return hits


def _line_starts(text: str) -> Iterator[int]:
    """Offsets where lines start (as ``str.splitlines`` would split on newlines)."""
    yield 0
    for m in re.finditer(r"\r\n|\r|\n", text):
        yield m.end()
