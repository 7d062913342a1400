"""``python -m models.evaluate``: the command line of ``models.analysis.evaluate`` (see ``--help``)."""

import sys

from models.analysis.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
