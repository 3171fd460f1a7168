"""The `synth` subcommand (placeholder until its step lands)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `synth`."""
    p = subparsers.add_parser("synth", help="(not yet available)")
    p.set_defaults(func=lambda args: (print("synth: not yet available") or 2))
