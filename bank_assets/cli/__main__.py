"""`python -m bank_assets.cli`: the same as the `bank-assets` console script."""

import sys

from bank_assets.cli import main

sys.exit(main())
