"""The `export` subcommand: research extracts (parquet, keyed pseudonyms) from the warehouse."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from csc_outcomes.commands import arguments

DESCRIPTION = """\
Write research extracts from the warehouse: one parquet file per canonical table,
identifiers replaced by keyed pseudonyms (HMAC-SHA256), dates of birth coarsened to
month, postcodes cut to district, and a data dictionary (markdown and CSV).

The key comes from --key-file or the CSC_OUTCOMES_PSEUDONYM_KEY environment
variable. The export refuses to run without a key, with a weak key (fewer than 32
bytes, or too regular to be a secret: about 128 bits or more of entropy are needed;
make one with 'openssl rand -base64 48' or 'openssl rand -hex 32'), and with a key
file inside the output folder, links followed. Keep the key with the LA: never send
it with the extract.

The extract is restricted data: its folder is created 0700 and its files 0600.

Exit codes: 0 written; 1 the export failed (no warehouse, no key, a weak or misplaced
key, a warehouse to be rebuilt); 2 usage error.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `export`."""
    p = subparsers.add_parser("export", help="research extracts with keyed pseudonyms (parquet)",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--research", type=Path, required=True, metavar="OUT", help="folder to write the extract to")
    p.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"), metavar="PATH",
                   help="warehouse to read (default: %(default)s)")
    p.add_argument("--key-file", type=Path, default=None, metavar="F",
                   help="file holding the pseudonym key: at least 32 random bytes, outside OUT "
                        "(default: env CSC_OUTCOMES_PSEUDONYM_KEY)")
    p.add_argument("--la", action="append", metavar="CODE", default=None,
                   type=arguments.la_code,
                   help="export only this LA (repeat --la for more)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the export; return the exit code."""
    from csc_outcomes.research.export import ExportError, export, load_key
    from csc_outcomes.warehouse import WarehouseSchemaError

    try:
        if not args.warehouse.exists():
            raise ExportError(f"no warehouse at {args.warehouse}; run 'csc-outcomes ingest' first")
        key = load_key(args.key_file, out_dir=args.research)
        written = export(args.warehouse, args.research, key=key, la_codes=args.la)
    except (ExportError, WarehouseSchemaError) as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    print(f"export: wrote {len(written)} file(s) to {args.research}")
    return 0
