"""The `ingest` subcommand (placeholder until its step lands)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `ingest`."""
    p = subparsers.add_parser("ingest", help="(not yet available)")
    p.set_defaults(func=lambda args: (print("ingest: not yet available") or 2))
