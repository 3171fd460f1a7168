"""The `run` subcommand (placeholder until its step lands)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `run`."""
    p = subparsers.add_parser("run", help="(not yet available)")
    p.set_defaults(func=lambda args: (print("run: not yet available") or 2))
