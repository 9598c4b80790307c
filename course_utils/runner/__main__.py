"""``python -m course_utils.runner``: see ``course_utils.runner.cli``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
