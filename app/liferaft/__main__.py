"""Allow `python -m liferaft`."""

import sys

from liferaft.cli import main

sys.exit(main())
