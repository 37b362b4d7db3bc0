"""The Textual workbench: renders core state and dispatches the user's actions."""
