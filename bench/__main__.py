"""Run the benchmarks: ``python -m bench [completion|tasklist|http ...] [--quick] [--postgres] [--explain] [--runs N]``.

Without a name every benchmark runs, in order. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import SpiffWorkflow
import sqlalchemy

from bench import Databases, Options, completion, http, tasklist

BENCHMARKS = {"completion": completion.run, "tasklist": tasklist.run, "http": http.run}


def parse_args(argv: list[str]) -> tuple[list[str], Options]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer runs (smoke test, < 1 minute)")
    parser.add_argument("--postgres", action="store_true",
                        help="completion: measure on PostgreSQL too (also PIS2_BENCH_POSTGRES=1)")
    parser.add_argument("--explain", action="store_true", help="tasklist: print the plan of every query")
    parser.add_argument("--runs", type=int, default=None, help="override the number of measured runs")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return args.names or list(BENCHMARKS), Options(quick=args.quick, postgres=args.postgres, runs=args.runs,
                                             explain=args.explain)


def main(argv: list[str] | None = None) -> int:
    names, options = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"python {platform.python_version()}, SpiffWorkflow {getattr(SpiffWorkflow, '__version__', '?')}, "
          f"SQLAlchemy {sqlalchemy.__version__}, {platform.machine()}{' (quick)' if options.quick else ''}")
    databases = Databases()
    started = time.perf_counter()
    try:
        for name in names:
            BENCHMARKS[name](options, databases)
            print()
    finally:
        databases.close()
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
