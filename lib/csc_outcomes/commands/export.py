"""The `export` subcommand (placeholder until its step lands)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `export`."""
    p = subparsers.add_parser("export", help="(not yet available)")
    p.set_defaults(func=lambda args: (print("export: not yet available") or 2))
