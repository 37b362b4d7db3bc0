"""The sub-commands, one module each: ``add_parser(subparsers)`` declares its arguments and ``run(args)`` does
its work and returns the exit code. A command imports :mod:`liferaft.cli.io` and the core, never another command
or :mod:`liferaft.cli.main`; heavy modules are imported inside ``run``, so that building the parser stays cheap."""

#: The help of the DIR argument most commands take.
DIR_HELP = "the analysis folder (default: the current folder)"
