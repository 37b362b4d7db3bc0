"""The command line: :func:`main` is the `liferaft` command (``liferaft._launch`` and ``python -m liferaft``).

- :mod:`liferaft.cli.main`: the parser and the dispatch (and the stale-temporary-file sweep before a command);
- :mod:`liferaft.cli.io`: output, errors and exit codes (it imports nothing of the command line);
- :mod:`liferaft.cli.signals`: SIGTERM and SIGHUP handled as Ctrl-C is;
- :mod:`liferaft.cli.console`: Rich printing of an inventory, a preview, a check report (imported only to print);
- :mod:`liferaft.cli.commands`: one module per sub-command, each with ``add_parser`` and ``run``.

Commands import ``io`` (never each other, nor ``main``); ``main`` imports the commands. The workbench
(:mod:`liferaft.tui`) and the core never import this package.
"""

from liferaft.cli.main import HANDLERS, main

__all__ = ["HANDLERS", "main"]
