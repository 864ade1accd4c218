"""``python -m rootkeys``: the command line (see `rootkeys.cli`)."""

from rootkeys.cli import main

raise SystemExit(main())
