import sys

from .cli import main

if __name__ == "__main__":  # guarded: decoding children (multiprocessing forkserver) import the main module
    sys.exit(main())
