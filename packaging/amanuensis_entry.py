"""The frozen app's entry point (PyInstaller runs this file as ``__main__``)."""

import multiprocessing
import sys

from amanuensis_desktop.cli import main

if __name__ == "__main__":
    # untrusted files are decoded in forkserver children: a frozen app re-runs itself for them, and
    # freeze_support() turns those runs into the forkserver / resource tracker instead of the CLI
    multiprocessing.freeze_support()
    sys.exit(main())
