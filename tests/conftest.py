"""Suite-wide test settings: no progress bars, a non-interactive matplotlib backend."""

import os

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
