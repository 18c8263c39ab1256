"""``python -m pytest_promote``: the registry command line (see :mod:`pytest_promote.cli`)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
