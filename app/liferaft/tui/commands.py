"""Every command of the workbench, defined once.

Each entry becomes a key binding (with an id, so it can be re-bound from the config file, and a tooltip),
a footer entry where it applies, a line on the help screen, and a command palette entry under its
category. Actions are all app actions (``app.NAME``), so a binding on a pane and the palette run the
same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

#: Where a command's key works. "app" keys work everywhere; the others only in their pane.
SCOPES: dict[str, str] = {
    "app": "Anywhere",
    "project": "Project pane",
    "preview": "Preview pane",
    "composer": "Composer pane",
}


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    """Binding id; the config file's [keys] table uses it."""
    keys: str
    """Default keys, comma-separated, in Textual's key names."""
    action: str
    """The app action it runs (without the ``app.`` prefix)."""
    label: str
    """Short footer label."""
    category: str
    """Palette category: "Project", "Preview", "View", "Composer", "App"."""
    title: str
    """Palette title, read as "Category: Title"."""
    help: str
    """Tooltip, palette help and help-screen description."""
    scope: str = "app"
    footer: bool = True
    priority: bool = False
    palette: bool = True
    reach: str = ""
    """How to reach a command that has no key of its own (shown in the palette and on the help screen)."""


COMMANDS: tuple[Command, ...] = (
    # Anywhere
    Command("app.help", "f1,question_mark", "help", "Help", "App", "Help",
            "Every key, and how recovery works"),
    Command("app.copy_prompt", "ctrl+y", "copy_prompt", "Copy prompt", "Composer", "Copy the prompt for a new chat",
            "Copy the prompt (checked for secrets first); a copy goes to RESTART/prompts/", priority=True),
    Command("app.edit_note", "n", "edit_note", "Note", "Composer", "Edit the restart note",
            "Edit the restart note; fill it from the project or import the chat's reply"),
    Command("app.checkpoint", "k", "checkpoint", "Checkpoint", "Project", "Record a checkpoint",
            "Record every file's size, time and hash and the restart note: what is safe now"),
    Command("app.checkpoints", "K", "show_checkpoints", "Checkpoints", "Project", "List the checkpoints",
            "Every checkpoint, and what changed between any two or since one", footer=False),
    Command("app.show_risk", "w", "show_risk", "At risk", "Project", "What is at risk",
            "Unsaved, missing and downloaded outputs, and what to do (or click the status line)", footer=False),
    Command("app.move_downloads", "m", "move_downloads", "Move downloads", "Project", "Move downloads into OUTPUT",
            "Move files that just arrived in your downloads and look like this project's outputs", footer=False),
    Command("app.import_export", "I", "import_export", "Import export", "Project", "Import a ChatGPT export",
            "Recover a chat from a ChatGPT export: its code, the note, what to regenerate",
            footer=False),
    Command("app.rescan", "r,f5", "rescan", "Rescan", "Project", "Read the folder again",
            "Scan the project folder again now"),
    Command("app.diagnose", "d", "diagnose", "Diagnose", "Diagnose", "Diagnose a problem",
            "Paste an error or pick a symptom: which layer failed, why, and what to do next"),
    Command("app.status_page", "", "status_page", "Status page", "Diagnose", "Check the status page",
            "Is the service down? Asks the vendor's status page (3-second limit)",
            footer=False, reach="d, then s"),
    Command("app.chat_used", "a", "chat_used", "Used chat", "Diagnose", "I just used the chat",
            "Tell the session clock you just used the chat: its ~13 h window starts again", footer=False),
    Command("app.checklist", "l", "checklist", "Checklist", "Diagnose", "Open the quick-fix checklist",
            "The seven quick fixes, lowest effort first; ticks are remembered for this project", footer=False),
    Command("app.support_report", "S", "support_report", "Support report", "Diagnose", "Write a support report",
            "The message for support (error, time, scope, versions), copied and saved in RESTART/",
            footer=False),
    Command("app.zoom", "z", "zoom", "Zoom", "View", "Zoom the focused pane",
            "Fill the screen with the focused pane; press again to go back"),
    Command("app.focus_project", "1", "focus_pane('project')", "Project", "View", "Go to the project pane",
            "Focus the project pane", footer=False),
    Command("app.focus_preview", "2", "focus_pane('preview')", "Preview", "View", "Go to the preview",
            "Focus the preview pane", footer=False),
    Command("app.focus_diagnosis", "3", "focus_pane('diagnosis')", "Diagnosis", "View", "Go to the diagnosis",
            "Focus the diagnosis pane", footer=False),
    Command("app.focus_composer", "4", "focus_pane('composer')", "Composer", "View", "Go to the composer",
            "Focus the composer pane", footer=False),
    Command("app.quit", "ctrl+q", "quit", "Quit", "App", "Quit", "Leave Liferaft", priority=True),
    # Project pane
    Command("project.filter", "slash", "filter", "Filter", "Project", "Filter files",
            "Show only files whose path contains what you type", scope="project"),
    Command("project.sort", "s", "cycle_sort", "Sort", "Project", "Change the sort order",
            "Sort files by name, by last change, or by size", scope="project"),
    Command("project.set_role", "o", "set_role", "Set role", "Project", "Change role",
            "Choose the selected file's role; Liferaft remembers it", scope="project"),
    Command("project.prepare", "p", "prepare", "Prepare", "Project", "Prepare the file for upload",
            "Fix the selected file for upload: split it, make it UTF-8, export a sheet, rename a copy",
            scope="project"),
    Command("project.replay", "R", "replay", "Replay", "Project", "Replay the code…",
            "Rerun the selected script (else the recovered one) cell by cell in a sandbox",
            scope="project", footer=False),
    Command("project.copy_path", "c", "copy_path", "Copy path", "Project", "Copy the file's path",
            "Put the selected file's full path on the clipboard", scope="project", footer=False),
    Command("project.reveal", "e", "reveal", "Reveal", "Project", "Show in the file manager",
            "Open the folder holding the selected file", scope="project", footer=False),
    # Composer pane
    Command("composer.template", "t", "cycle_template", "Template", "Composer", "Next prompt template",
            "Rerun from scratch, regenerate one output, new chat with a brief, or ask for a note",
            scope="composer"),
    Command("composer.code", "i", "toggle_code", "Code", "Composer", "Include the saved code",
            "Put the code from CODE/ in the prompt, cut to the token budget", scope="composer"),
    Command("composer.budget", "b", "edit_budget", "Budget", "Composer", "Set the token budget",
            "The most tokens the prompt may take", scope="composer", footer=False),
    Command("composer.copy_uploads", "u", "copy_uploads", "Copy list", "Composer", "Copy the upload list",
            "Copy the full paths of the files to upload, one a line", scope="composer"),
    Command("composer.open_uploads", "f", "open_uploads", "Open folder", "Composer", "Open the upload folder",
            "Show the folder holding the files to upload in the file manager", scope="composer"),
    # Preview pane
    Command("preview.next_sheet", "right_square_bracket", "sheet(1)", "Next sheet", "Preview",
            "Next sheet of the workbook", "Show the workbook's next sheet", scope="preview"),
    Command("preview.previous_sheet", "left_square_bracket", "sheet(-1)", "Prev sheet", "Preview",
            "Previous sheet of the workbook", "Show the workbook's previous sheet", scope="preview"),
)

BY_ID: dict[str, Command] = {command.id: command for command in COMMANDS}


def bindings(scope: str) -> list[Binding]:
    """The key bindings of one scope, for a widget's BINDINGS."""
    return [
        Binding(
            command.keys,
            f"app.{command.action}",
            command.label,
            show=command.footer,
            priority=command.priority,
            id=command.id,
            tooltip=command.help,
        )
        for command in COMMANDS
        if command.scope == scope and command.keys
    ]


#: Textual's names of the keys that read better as the character typed.
KEY_NAMES = {"question_mark": "?", "slash": "/", "left_square_bracket": "[", "right_square_bracket": "]"}


def keys_shown(command: Command, keys: str | None = None) -> str:
    """The keys of ``command`` as a person types them (``keys``: as re-bound), or how to reach it."""
    keys = command.keys if keys is None else keys
    shown = " or ".join(KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(",") if key.strip())
    return shown or command.reach


def in_scope(scope: str) -> Iterable[Command]:
    return (command for command in COMMANDS if command.scope == scope)
