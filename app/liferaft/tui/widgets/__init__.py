"""The workbench's panes and its status line."""
