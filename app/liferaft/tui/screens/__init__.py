"""The workbench (the main screen) and the screens and dialogs opened over it."""
