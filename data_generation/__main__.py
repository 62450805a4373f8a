import sys

from data_generation.cli import main

# Guarded: the worker processes of a parallel run (generate.py, spawned) import this module too.
if __name__ == "__main__":
    sys.exit(main())
