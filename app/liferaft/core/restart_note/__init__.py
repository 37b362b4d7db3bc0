"""The restart note: what lets a fresh chat pick up an analysis after its sandbox is gone.

The note is plain Markdown in RESTART/ with stable second-level headings, so people can edit it by hand
and Liferaft can read it back. This module holds the section list, renders a fresh note, and reads a note
as a structured document (:func:`parse_note` / :func:`write_note`, lossless: a hand-edited note comes back
byte for byte), loads and saves it, fills its empty sections from the project, and merges the chat's own
restart note (asked for with :func:`request_prompt`) into it.

The package's modules: :mod:`.document` (the sections, parsing and writing), :mod:`.store` (the note on disk,
prefilled, merged) and :mod:`.reply` (the chat's own note). Their public names are importable from here.
"""

from __future__ import annotations

from liferaft.core.restart_note.document import SECTIONS as SECTIONS
from liferaft.core.restart_note.document import NoteSection as NoteSection
from liferaft.core.restart_note.document import RestartNote as RestartNote
from liferaft.core.restart_note.document import Section as Section
from liferaft.core.restart_note.document import changed_keys as changed_keys
from liferaft.core.restart_note.document import new_note as new_note
from liferaft.core.restart_note.document import parse_note as parse_note
from liferaft.core.restart_note.document import render_note as render_note
from liferaft.core.restart_note.document import section_key as section_key
from liferaft.core.restart_note.document import write_note as write_note
from liferaft.core.restart_note.reply import ReplyImport as ReplyImport
from liferaft.core.restart_note.reply import ReplyParts as ReplyParts
from liferaft.core.restart_note.reply import import_reply as import_reply
from liferaft.core.restart_note.reply import merge_reply as merge_reply
from liferaft.core.restart_note.reply import reply_section_key as reply_section_key
from liferaft.core.restart_note.reply import reply_sections as reply_sections
from liferaft.core.restart_note.reply import request_prompt as request_prompt
from liferaft.core.restart_note.reply import split_reply as split_reply
from liferaft.core.restart_note.store import NOTE_FILENAME as NOTE_FILENAME
from liferaft.core.restart_note.store import NOTE_LIMIT as NOTE_LIMIT
from liferaft.core.restart_note.store import PREFILL_COLUMNS as PREFILL_COLUMNS
from liferaft.core.restart_note.store import PREFILL_TABLES as PREFILL_TABLES
from liferaft.core.restart_note.store import NoteError as NoteError
from liferaft.core.restart_note.store import find_note as find_note
from liferaft.core.restart_note.store import load_note as load_note
from liferaft.core.restart_note.store import merge_notes as merge_notes
from liferaft.core.restart_note.store import note_mentions as note_mentions
from liferaft.core.restart_note.store import note_path as note_path
from liferaft.core.restart_note.store import prefill_content as prefill_content
from liferaft.core.restart_note.store import prefill_note as prefill_note
from liferaft.core.restart_note.store import read_note_text as read_note_text
from liferaft.core.restart_note.store import rename_in_note as rename_in_note
from liferaft.core.restart_note.store import rename_mentions as rename_mentions
from liferaft.core.restart_note.store import save_note as save_note
