"""The streaming listing: per-conversation facts, every layout of the JSON text, progress, fuzz."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liferaft.core.recover import listing
from liferaft.core.recover.sources import ExportError, open_export
from tests import recover_fixtures as fx


def _list(path: Path) -> list[listing.ConversationSummary]:
    return list(open_export(path).conversations())


def test_the_facts_of_a_data_analysis_conversation(tmp_path: Path) -> None:
    [summary] = _list(fx.write_conversations_json(tmp_path / "conversations.json", [fx.sales_conversation()]))
    assert summary.id == "conv-sales" and summary.title == "Sales by region"
    assert summary.model == "gpt-4o"
    assert summary.create_time == pytest.approx(fx.T0 + 86400 + 60)
    assert summary.update_time and summary.update_time > summary.create_time
    assert summary.code_cells == 5
    assert summary.uploads == ("sales.csv",)
    # Links as Markdown, in backticks and bare; %20 decoded, the sub-folder kept, trailing punctuation dropped.
    assert set(summary.generated) == {"charts/by_region.png", "revenue by region.csv", "monthly_trend.csv"}
    assert summary.files == 4
    assert summary.problems == ()


def test_every_era(tmp_path: Path) -> None:
    listed = {s.id: s for s in _list(fx.write_conversations_json(tmp_path / "c.json", fx.all_variants()))}
    assert listed["conv-2023"].model == "gpt-4-code-interpreter"
    assert listed["conv-2023"].uploads == ("data.xlsx",)  # camelCase attachment
    assert listed["conv-2025"].code_cells == 4  # code in parts, channel commentary
    assert listed["conv-2025"].uploads == ("bundle.zip",)
    assert "Screenshot 2025-09-22.png" in listed["conv-2025"].generated
    assert "out/report.md" in listed["conv-2025"].generated
    assert listed["conv-branch"].code_cells == 2  # both branches ran
    assert set(listed["conv-branch"].generated) == {"abandoned.csv", "clean.csv"}
    assert listed["conv-chat"].code_cells == 0 and listed["conv-chat"].files == 0
    assert listed["conv-dangling"].code_cells == 1


def _variants_of_the_text(convs: list[dict]) -> dict[str, str]:
    shuffled = []
    for conv in convs:  # key order differs between producers: mapping first, last, in the middle
        keys = list(conv)
        random.Random(len(shuffled)).shuffle(keys)
        shuffled.append({key: conv[key] for key in keys})
    mapping_last = [{**{k: v for k, v in c.items() if k != "mapping"}, "mapping": c["mapping"]} for c in convs]
    mapping_first = [{"mapping": c["mapping"], **{k: v for k, v in c.items() if k != "mapping"}} for c in convs]
    return {
        "export style": json.dumps(convs, ensure_ascii=False),
        "compact": json.dumps(convs, separators=(",", ":")),
        "pretty": json.dumps(convs, indent=2),
        "ascii escapes": json.dumps(convs, ensure_ascii=True),
        "crlf pretty": json.dumps(convs, indent="\t").replace("\n", "\r\n"),
        "shuffled keys": json.dumps(shuffled),
        "mapping last": json.dumps(mapping_last),
        "mapping first": json.dumps(mapping_first),
    }


def test_every_layout_of_the_json_text_gives_the_same_listing(tmp_path: Path) -> None:
    convs = fx.all_variants()
    expected = None
    for name, text in _variants_of_the_text(convs).items():
        path = tmp_path / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        export = open_export(path)
        got = [(s.id, s.title, s.create_time, s.model, s.code_cells, s.uploads, s.generated)
               for s in export.conversations()]
        assert export.problems == [], name
        expected = expected or got
        assert got == expected, name
        assert export.load("conv-branch") == convs[4], name


def test_tiny_blocks_split_everything_across_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fx.write_conversations_json(tmp_path / "conversations.json", fx.all_variants())
    normal = _list(path)
    for block in (7, 64, 1000):
        monkeypatch.setattr(listing, "BLOCK", block)
        assert _list(path) == normal


def test_strings_that_look_like_structure_do_not_confuse_it(tmp_path: Path) -> None:
    conv = fx.sales_conversation()
    conv["title"] = 'Odd }, {"title": "x", "mapping": {  title'
    tricky = fx.Conversation("conv-tricky", "Tricky {", start=fx.T0)
    tricky.user('print the JSON {"mapping": {}, "recipient": "python"} }, {"title": "fake"}')
    tricky.code('s = \'"mapping": {"a": 1}\'\nprint(s)  # "recipient": "python"')
    node = tricky.output("ok")
    tricky.mapping[node]["message"]["metadata"]["mapping"] = {"nested": {"mapping": {}}}  # a real nested key
    listed = _list(fx.write_conversations_json(tmp_path / "c.json", [conv, tricky.build(), fx.plain_chat()]))
    assert [(s.id, s.title) for s in listed] == [("conv-sales", conv["title"]), ("conv-tricky", "Tricky {"),
                                                 ("conv-chat", "A plain chat")]
    assert listed[1].code_cells == 1


def test_huge_output_and_many_conversations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "BLOCK", 1 << 16)
    big = fx.Conversation("conv-big", "Huge output")
    big.user("print a lot")
    big.code("print('x' * 10**7)")
    big.output("x" * 5_000_000)
    convs = [fx.plain_chat(f"chat-{i}", f"Chat {i}") for i in range(300)] + [big.build(), fx.sales_conversation()]
    export = open_export(fx.write_conversations_json(tmp_path / "c.json", convs))
    listed = list(export.conversations())
    assert len(listed) == 302 and listed[300].code_cells == 1 and listed[301].id == "conv-sales"
    assert len(export.load("conv-big")["mapping"]) == len(big.mapping)


def test_progress_reports_bytes_up_to_the_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "BLOCK", 4096)
    path = fx.write_sharded_zip(tmp_path / "s.zip", fx.all_variants() * 3, shard_size=5)
    export = open_export(path)
    seen: list[tuple[int, int]] = []
    assert len(list(export.conversations(progress=lambda done, total: seen.append((done, total))))) == 18
    totals = {total for _, total in seen}
    assert totals == {export.total_bytes}
    dones = [done for done, _ in seen]
    assert dones == sorted(dones) and dones[-1] == export.total_bytes and len(seen) > 5


def test_unknown_content_types_and_missing_fields_are_tolerated(tmp_path: Path) -> None:
    odd = {"mapping": {"a": {"id": "a", "message": {"content": {"content_type": "sonic_webpage", "x": [1, {}]}}},
                       "b": None, "c": {"message": "not an object"}}}
    bare = {"title": None, "create_time": "yesterday", "mapping": {}}
    listed = _list(fx.write_conversations_json(tmp_path / "c.json", [odd, bare, fx.plain_chat()]))
    assert [s.id for s in listed] == ["#1", "#2", "conv-chat"]
    assert listed[0].title == "(untitled)" and listed[1].create_time is None


# -- fuzz ----------------------------------------------------------------------------------------------
def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((*prefix, key))
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_paths(item, (*prefix, i)))
    return out


BASE = fx.all_variants()
BASE_PATHS = [(i, p) for i, conv in enumerate(BASE) for p in _paths(conv)]


def _delete(convs: list[dict], choice: tuple[int, tuple]) -> None:
    index, path = choice
    target = convs[index]
    for step in path[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(target, dict):
        target.pop(path[-1], None)


@given(choices=st.lists(st.sampled_from(BASE_PATHS), min_size=1, max_size=25),
       replace=st.sampled_from([None, 0, "", [], {}, "💥", 1e308]))
def test_random_deletions_never_crash(tmp_path: Path, choices: list, replace: object) -> None:
    convs = copy.deepcopy(BASE)
    for choice in choices:
        _delete(convs, choice)
    if replace is not None:  # and one value swapped for a wrong type
        index, path = choices[0]
        target = convs[index]
        for step in path[:-1]:
            target = target.get(step, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict) and path[-1] in target:
            target[path[-1]] = replace
    path = fx.write_conversations_json(tmp_path / "fuzz.json", convs)
    export = open_export(path)
    listed = list(export.conversations())
    for summary in listed:
        try:
            loaded = export.load(summary.id)
        except ExportError:
            continue
        assert isinstance(loaded, dict)


def test_non_ascii_link_names_with_and_without_ascii_escapes(tmp_path: Path) -> None:
    c = fx.Conversation("conv-café", "Café résumé")
    c.user("go")
    c.say("Here: [the table](sandbox:/mnt/data/café_résumé.csv) and sandbox:/mnt/data/naïve%20plot.png.")
    conv = c.build()
    for ascii_only in (True, False):
        path = tmp_path / f"{ascii_only}.json"
        path.write_text(json.dumps([conv], ensure_ascii=ascii_only), encoding="utf-8")
        [summary] = _list(path)
        assert (summary.id, summary.title) == ("conv-café", "Café résumé")
        assert summary.generated == ("café_résumé.csv", "naïve plot.png")


# -- items that are not conversations, and damaged headers (review of issue #8, defect 1) -------------------
def _abc() -> list[dict]:
    return [fx.sales_conversation(f"conv-{x}", x.upper()) for x in "abc"]


@pytest.mark.parametrize("junk", [None, "a string", [1, 2, 3], 42, {"not": "a conversation"}, [1, {"mapping": {}}]])
@pytest.mark.parametrize("block", [listing.BLOCK, 64])
def test_an_item_that_is_not_a_conversation_does_not_merge_its_neighbours(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, junk: object, block: int) -> None:
    monkeypatch.setattr(listing, "BLOCK", block)
    a, b, c = _abc()
    export = open_export(fx.write_conversations_json(tmp_path / "c.json", [a, junk, b, c]))
    listed = list(export.conversations())
    assert [(s.id, s.title, s.code_cells) for s in listed] == [("conv-a", "A", 5), ("conv-b", "B", 5),
                                                               ("conv-c", "C", 5)]
    assert len(export.problems) == 1 and "item 2" in export.problems[0] and "\n" not in export.problems[0]
    assert export.load("conv-a") == a and export.load("B") == b and export.load("conv-c") == c


def test_junk_before_the_first_and_after_the_last(tmp_path: Path) -> None:
    a, b, c = _abc()
    export = open_export(fx.write_conversations_json(tmp_path / "c.json", [None, a, b, c, "end"]))
    assert [s.id for s in export.conversations()] == ["conv-a", "conv-b", "conv-c"]
    assert len(export.problems) == 2 and "item 1" in export.problems[0] and "item 5" in export.problems[1]
    assert export.load("conv-c") == c


@pytest.mark.parametrize("block", [listing.BLOCK, 64])
def test_a_damaged_header_loses_only_that_conversation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       block: int) -> None:
    monkeypatch.setattr(listing, "BLOCK", block)
    convs = [fx.sales_conversation(f"conv-{i}", f"T{i}") for i in range(5)]
    text = fx.dumps(convs).replace('"title": "T2"', '"title": "T2', 1)  # an unterminated string
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    export = open_export(path)
    listed = list(export.conversations())
    assert [(s.id, s.title, s.code_cells) for s in listed] == [(f"conv-{i}", f"T{i}", 5) for i in (0, 1, 3, 4)]
    assert len(export.problems) == 1 and "item 3" in export.problems[0] and "not valid JSON" in export.problems[0]
    assert export.load("conv-1") == convs[1] and export.load("T3") == convs[3]


def test_a_syntax_error_at_the_end_is_not_called_a_truncation(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('[{"id":"a","title":"x","mapping":{}}, {"id": "b", ]', encoding="utf-8")
    export = open_export(path)
    assert [(s.id, s.title) for s in export.conversations()] == [("a", "x")]
    assert len(export.problems) == 1 and "not valid JSON" in export.problems[0]
    assert "truncated" not in export.problems[0]
    assert export.load("a")["title"] == "x"


def test_a_nested_array_is_read_and_not_called_a_truncation(tmp_path: Path) -> None:
    conv = fx.sales_conversation()
    path = tmp_path / "c.json"
    path.write_text(fx.dumps([[conv]]), encoding="utf-8")
    export = open_export(path)
    assert [s.id for s in export.conversations()] == ["conv-sales"]
    assert not any("truncated" in p for p in export.problems)
    assert export.load("conv-sales") == conv
