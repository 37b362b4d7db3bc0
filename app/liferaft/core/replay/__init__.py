"""Replaying a recovered chat script locally: the requirements it needs and the environment that runs it."""
