"""``python -m ocr``: see ocr/cli.py."""

from ocr.cli import main

raise SystemExit(main())
