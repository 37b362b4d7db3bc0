"""A small dialog that sets the role of one file (an override Liferaft remembers)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from liferaft.core.roles import FOLDER_ROLES, Role
from liferaft.core.scan import FileRecord, shown_name
from liferaft.tui.screens.screen_help import HELP_BINDING
from liferaft.tui.widgets.project_pane import ROLE_HINTS

#: The option that removes an override: the role comes from the folder (or a guess) again.
AUTOMATIC = "automatic"


class RolePicker(ModalScreen[Role | str | None]):
    """Returns the chosen role, :data:`AUTOMATIC`, or None when dismissed."""

    BINDINGS = [HELP_BINDING, Binding("escape", "cancel", "Cancel", id="role.cancel", tooltip="Keep the current role")]
    HELP_TITLE = "the role picker"
    HELP_KEYS = (("↑ ↓", "pick a role"), ("enter", "set it (remembered in .liferaft/state.json)"))

    def __init__(self, record: FileRecord, overridden: bool) -> None:
        super().__init__()
        self._record = record
        self._overridden = overridden

    def compose(self) -> ComposeResult:
        with Vertical(id="role-dialog"):
            yield Label(f"Role of {shown_name(self._record.display_path)}", id="role-title", markup=False)
            options = [
                Option(f"{role.label:<8} {ROLE_HINTS[role]}", id=role.value) for role in FOLDER_ROLES
            ]
            options.append(Option("Automatic: from its folder, or guessed from its kind", id=AUTOMATIC))
            option_list = OptionList(*options, id="role-options")
            yield option_list
            yield Label("enter choose · esc cancel", id="role-help")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        current = self._record.role.value if self._overridden else AUTOMATIC
        if current not in {role.value for role in FOLDER_ROLES}:
            current = AUTOMATIC  # e.g. an override to "unsorted" written by hand
        option_list.highlighted = option_list.get_option_index(current)
        option_list.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        self.dismiss(AUTOMATIC if choice == AUTOMATIC else Role(choice))

    def action_cancel(self) -> None:
        self.dismiss(None)
