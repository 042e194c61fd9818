"""`python -m zynamo` runs the command line."""

import sys

from zynamo.cli import main

sys.exit(main())
