"""``python -m assignments list`` / ``python -m assignments run NAME [options]``."""
import sys

import minigrad  # noqa: F401  (first: it sets OpenBLAS's thread timeout before NumPy loads)

from .cli import main

sys.exit(main())
