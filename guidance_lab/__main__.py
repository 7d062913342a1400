"""``python -m guidance_lab``: the ``guidance-lab`` command without its installed script."""

import sys

from guidance_lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
