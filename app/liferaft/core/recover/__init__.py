"""Recover a lost data-analysis session from a ChatGPT data export.

`sources` opens every kind of export (zip, folder, conversations.json, one conversation, chat.html, Markdown) and
`listing` lists its conversations in one streaming pass; `extract` turns one conversation into what ran and what it
made, and `write` saves the script, the note prefill and the figures.
"""
