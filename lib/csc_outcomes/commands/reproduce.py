"""The `reproduce` subcommand (placeholder until its step lands)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `reproduce`."""
    p = subparsers.add_parser("reproduce", help="(not yet available)")
    p.set_defaults(func=lambda args: (print("reproduce: not yet available") or 2))
