"""``python -m lscb``: the same as the ``lscb`` command."""

import sys

from lscb.cli import main

if __name__ == "__main__":
    sys.exit(main())
