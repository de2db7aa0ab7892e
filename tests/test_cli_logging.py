"""`amanuensis -v/-vv` sets the log level once, in cli.main; the default shows warnings only."""

from __future__ import annotations

import logging

import pytest

from amanuensis_desktop.cli import build_parser, configure_logging


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["backends"], logging.WARNING),
        (["-v", "backends"], logging.INFO),
        (["backends", "-v"], logging.INFO),
        (["backends", "-vv"], logging.DEBUG),
    ],
)
def test_verbosity_sets_the_root_level(argv, level):
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, root.handlers[:]
    try:
        configure_logging(build_parser().parse_args(argv).verbose)
        assert root.level == level
        assert logging.getLogger("amanuensis_desktop.power").getEffectiveLevel() == level
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
