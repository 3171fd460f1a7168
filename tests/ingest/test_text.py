"""The shared text decoding: encodings, line endings, blank lines, too many fields."""

from __future__ import annotations

from csc_outcomes.ingest.sources.text import decode_bytes, read_csv_text

from .conftest import write


def test_decode_variants():
    assert decode_bytes("a,é\r\nb\r\n".encode()) == ("a,é\nb\n", "utf-8")
    assert decode_bytes(b"\xef\xbb\xbfa,\xc3\xa9\n") == ("a,é\n", "utf-8-sig")
    assert decode_bytes("a,é\r\n".encode("cp1252")) == ("a,é\n", "windows-1252")
    assert decode_bytes(b"a\rb\r") == ("a\nb\n", "utf-8")


def test_line_numbers_survive_blank_and_bad_lines(tmp_path):
    p = write(tmp_path / "x.csv", "\n A , B \r\n1,2\r\n\r\n  ,  \r\n3,4,5\r\n6,7\r\n")
    raw = read_csv_text(p)
    assert list(raw.frame.columns) == ["A", "B"]
    assert raw.frame.to_dict("list") == {"A": ["1", "6"], "B": ["2", "7"]}
    assert raw.lines.tolist() == [3, 7]
    assert [b[0] for b in raw.bad_lines] == [6]
