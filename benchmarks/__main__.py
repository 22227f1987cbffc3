"""``python -m benchmarks NAME [options]``: run one benchmark suite (or ``all``).

Each suite is a module ``benchmarks/NAME.py`` with ``main(argv)`` that prints
a table of our time, the reference's time and their ratio.
"""
import importlib
import sys

import minigrad  # noqa: F401  (first: it sets OpenBLAS's thread timeout before NumPy loads)

SUITES = ("layers", "classic_cv")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("suites:", ", ".join(SUITES + ("all",)))
        return 0
    name, rest = argv[0], argv[1:]
    if name != "all" and name not in SUITES:
        print(f"unknown suite {name!r}; choose from {', '.join(SUITES + ('all',))}", file=sys.stderr)
        return 2
    for suite in SUITES if name == "all" else (name,):
        module = importlib.import_module(f"benchmarks.{suite.replace('-', '_')}")
        module.main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
