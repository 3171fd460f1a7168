"""The ingest tests' clean input folder and helpers, shared with these tests."""

from __future__ import annotations

from ingest.conftest import FIXTURES, TODAY, clean_dir, write

__all__ = ["FIXTURES", "TODAY", "clean_dir", "write"]
