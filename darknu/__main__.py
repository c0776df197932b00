"""``python -m darknu`` is the ``darknu`` command."""

import sys

from darknu.cli import main

sys.exit(main())
