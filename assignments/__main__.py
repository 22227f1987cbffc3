"""``python -m assignments list`` / ``python -m assignments run NAME [options]``."""
import sys

from .cli import main

sys.exit(main())
