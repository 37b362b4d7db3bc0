"""Allow `python -m liferaft` (the same as the `liferaft` command)."""

import sys

from liferaft._launch import main

sys.exit(main())
