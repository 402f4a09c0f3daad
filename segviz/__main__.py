"""``python -m segviz <command>``: the same as the ``segviz`` console script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
