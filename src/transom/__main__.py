"""``python -m transom``: the same as the ``transom`` command."""

from transom.cli import main

raise SystemExit(main())
