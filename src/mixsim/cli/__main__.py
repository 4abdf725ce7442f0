"""``python -m mixsim.cli``: the same as the ``mixsim`` command."""

import sys

from mixsim.cli.main import main

sys.exit(main())
