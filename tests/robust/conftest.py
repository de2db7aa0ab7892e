"""The long switch: AMANUENSIS_LONG=1 runs the long versions (more fuzz cases, a longer soak)."""

from __future__ import annotations

import os

LONG = os.environ.get("AMANUENSIS_LONG", "") not in ("", "0")
