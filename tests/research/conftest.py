"""The ingest tests' clean input folder and helpers, shared with these tests."""

from __future__ import annotations

from ingest.conftest import TODAY, clean_dir, write

__all__ = ["TODAY", "clean_dir", "write"]
