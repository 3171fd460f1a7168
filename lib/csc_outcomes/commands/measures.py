"""The `measures` subcommand (placeholder until its step lands)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `measures`."""
    p = subparsers.add_parser("measures", help="(not yet available)")
    p.set_defaults(func=lambda args: (print("measures: not yet available") or 2))
