"""``python -m retroprop``: the ``retroprop`` command."""

from retroprop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
