"""Builders of ChatGPT data exports for the recover tests, from the format notes (no real export is used).

`Conversation` grows a conversation tree node by node (each method returns the new node's id and moves the
cursor there, so calls read in chat order); `branch_from(node_id)` starts an edit branch. The ready-made
conversations cover every era's variants; the writers save a list of conversations as each kind of export:
classic zip, sharded 2026 zip, extracted folder, conversations.json, single conversation JSON, chat.html, and
one conversation's JSON wrapped in a Markdown file.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

#: A fixed clock for the conversations: 2025-08-01 00:00 UTC, plus a minute per message.
T0 = 1754006400.0

#: The smallest valid PNG (1x1, grey), for figure assets.
PNG_1X1 = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82"
)

RESET_SHORT = "Code execution state reset."
RESET_LONG = (
    "Code execution state reset.\nIMPORTANT: The Python code did not successfully execute.\n"
    "Do not assume that any outputs (files, variables, or side effects, etc...) were created.\n"
    "You should retry execution if needed, but do so without telling the user that the previous session "
    "or environment was reset."
)


class Conversation:
    """A conversation under construction. `build()` returns the export's dict."""

    def __init__(self, conv_id: str, title: str | None, *, model: str = "gpt-4o", root: str = "client-created-root",
                 start: float = T0, system_node: bool = True, uuid_ids: bool = False) -> None:
        self.id = conv_id
        self.uuid_ids = uuid_ids
        self.title = title
        self.model = model
        self.clock = start
        self.mapping: dict[str, dict[str, Any]] = {root: {"id": root, "parent": None, "children": [], "message": None}}
        self.cursor = root
        self.current_node: str | None = None
        self.extra: dict[str, Any] = {}
        self._n = 0
        if system_node:
            self.add({"author": {"role": "system"}, "content": {"content_type": "text", "parts": [""]},
                      "weight": 0.0, "metadata": {"is_visually_hidden_from_conversation": True}}, timed=False)

    # -- tree ------------------------------------------------------------------------------------------
    def _next_id(self) -> str:
        self._n += 1
        if self.uuid_ids:  # as the export names its nodes (fixed, so that a test can name one)
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.id}/{self._n}"))
        return f"{self.id}-n{self._n:03d}"

    def add(self, message: dict[str, Any], *, timed: bool = True, node_id: str | None = None) -> str:
        """Add a raw message under the cursor; returns its node id."""
        nid = node_id or self._next_id()
        message = {"id": nid, "status": "finished_successfully", "recipient": "all", **message}
        if timed:
            self.clock += 60.0
            message.setdefault("create_time", self.clock)
        else:
            message.setdefault("create_time", None)
        message.setdefault("metadata", {})
        self.mapping[nid] = {"id": nid, "parent": self.cursor, "children": [], "message": message}
        self.mapping[self.cursor]["children"].append(nid)
        self.cursor = nid
        return nid

    def branch_from(self, node_id: str) -> Conversation:
        """Move the cursor back to `node_id`: the next message starts a sibling branch (an edit)."""
        self.cursor = node_id
        return self

    # -- messages --------------------------------------------------------------------------------------
    def user(self, text: str, *, attachments: list[dict[str, Any]] | None = None, hidden: bool = False,
             images: list[str] | None = None) -> str:
        metadata: dict[str, Any] = {}
        if attachments:
            metadata["attachments"] = attachments
        if hidden:
            metadata["is_visually_hidden_from_conversation"] = True
        if images:
            parts: list[Any] = [{"content_type": "image_asset_pointer", "asset_pointer": p, "size_bytes": 100}
                                for p in images] + [text]
            content = {"content_type": "multimodal_text", "parts": parts}
        else:
            content = {"content_type": "text", "parts": [text]}
        return self.add({"author": {"role": "user"}, "content": content, "metadata": metadata})

    def context(self, text: str = "The user likes short answers.") -> str:
        """Custom instructions: a hidden `user_editable_context` node."""
        return self.add({"author": {"role": "user"}, "content": {"content_type": "user_editable_context",
                                                                 "user_profile": text, "user_instructions": ""},
                         "metadata": {"is_visually_hidden_from_conversation": True}}, timed=False)

    def say(self, text: str) -> str:
        """The assistant's visible answer (recipient all)."""
        return self.add({"author": {"role": "assistant"}, "content": {"content_type": "text", "parts": [text]},
                         "metadata": {"model_slug": self.model}, "channel": "final" if self.model.startswith(
                             "gpt-5") else None})

    def code(self, code: str, *, style: str = "code") -> str:
        """A python call: style "code" (2023-2025, content.text) or "text" (GPT-5 era, parts + commentary)."""
        if style == "code":
            content = {"content_type": "code", "language": "unknown", "response_format_name": None, "text": code}
            channel = None
        else:
            content = {"content_type": "text", "parts": [code]}
            channel = "commentary"
        return self.add({"author": {"role": "assistant"}, "recipient": "python", "channel": channel,
                         "content": content, "metadata": {"model_slug": self.model}})

    def output(self, text: str = "", *, status: str = "success", code: str | None = None,
               exception: tuple[str, str] | None = None, images: list[str] | None = None, fileservice2: bool = False,
               ada: list[dict[str, Any]] | None = None, final: str | None = None) -> str:
        """The python tool's reply. `exception` is (name, message) for a failed run; `images` file-service URLs."""
        call = self.mapping[self.cursor]["message"] or {}
        call_code = (call.get("content") or {}).get("text") or "".join(
            p for p in (call.get("content") or {}).get("parts") or [] if isinstance(p, str))
        agg: dict[str, Any] = {
            "status": status, "run_id": "run-" + self.cursor, "start_time": self.clock, "end_time": self.clock + 1,
            "code": call_code if code is None else code, "final_expression_output": final,
            "in_kernel_exception": None, "system_exception": None, "timeout_triggered": None,
            "messages": [], "jupyter_messages": [],
        }
        if exception:
            name, message = exception
            agg["in_kernel_exception"] = {"name": name, "args": [message], "notes": [],
                                          "traceback": [f"{name}: {message}\n"]}
            agg["jupyter_messages"].append({"msg_type": "error", "content": {"ename": name, "evalue": message,
                                                                             "traceback": []}})
            text = text or "-" * 75 + f"\n{name}: {message}\n"
        for url in images or []:
            agg["messages"].append({"message_type": "image", "image_url": url, "width": 640, "height": 480,
                                    "image_payload": None, "sender": "server"})
            data: dict[str, Any] = {"text/plain": "<Figure size 640x480 with 1 Axes>"}
            if fileservice2:
                data["image/vnd.openai.fileservice2.png"] = json.dumps({"url": url, "image_width": 640,
                                                                        "image_height": 480, "bytes": 302})
            else:
                data["image/vnd.openai.fileservice.png"] = url
            agg["jupyter_messages"].append({"msg_type": "display_data", "content": {"data": data}})
            text += "\n<<ImageDisplayed>>"
        metadata: dict[str, Any] = {"is_complete": True, "model_slug": self.model, "parent_id": self.cursor,
                                    "aggregate_result": agg}
        if ada:
            metadata["ada_visualizations"] = ada
        return self.add({"author": {"role": "tool", "name": "python", "metadata": {}},
                         "content": {"content_type": "execution_output", "text": text}, "metadata": metadata})

    def shell(self, command: str | list[str], *, style: str = "json", timeout: int | None = None) -> str:
        """A shell step in the sandbox (recipient ``container.exec``), shaped as 2025 exports hold it: style
        "json" is content.text ``{"cmd":["bash","-lc","<command>"]}`` (a list ``command`` is the cmd itself),
        with ``, "timeout": N`` after it when given, on the commentary channel (agent mode, GPT-5); "bare" is the
        text ``bash -lc <command>`` unquoted, no channel (GPT-5.x thinking, late 2025). Shapes counted on the
        public exports of ElinVoss/craig-CODA (784 calls in 12 readable conversations; the repository has no
        licence, so nothing of it is copied here): 663 JSON, all ``bash -lc``, 345 with a timeout; 118 bare."""
        if style == "bare":
            text, channel = f"bash -lc {command}", None
        else:
            cmd = command if isinstance(command, list) else ["bash", "-lc", command]
            text = '{"cmd":' + json.dumps(cmd, separators=(",", ":"), ensure_ascii=False)
            text += (f', "timeout": {timeout}' if timeout is not None else "") + "}"
            channel = "commentary"
        return self.add({"author": {"role": "assistant"}, "recipient": "container.exec", "channel": channel,
                         "content": {"content_type": "code", "language": "unknown", "response_format_name": None,
                                     "text": text},
                         "metadata": {"model_slug": self.model, "reasoning_status": "is_reasoning"}})

    def shell_output(self, text: str = "", *, style: str = "text") -> str:
        """The shell tool's reply (author name ``container.exec``): style "text" (agent mode: text parts on the
        commentary channel, no status), "execution_output" (thinking models: aggregate_result with status,
        final_expression_output and messages only), "error" (the command failed: a system_error named
        ChatGPTAgentToolException holding what it printed)."""
        author = {"role": "tool", "name": "container.exec", "metadata": {}}
        metadata: dict[str, Any] = {"parent_id": self.cursor, "reasoning_status": "is_reasoning"}
        if style == "execution_output":
            metadata["aggregate_result"] = {"status": "success", "final_expression_output": text, "messages": []}
            return self.add({"author": author, "channel": None, "metadata": metadata,
                             "content": {"content_type": "execution_output", "text": text}})
        if style == "error":
            return self.add({"author": author, "channel": None, "metadata": metadata,
                             "content": {"content_type": "system_error", "name": "ChatGPTAgentToolException",
                                         "text": text}})
        return self.add({"author": author, "channel": "commentary", "metadata": metadata,
                         "content": {"content_type": "text", "parts": [text]}})

    def reset(self, *, long: bool = False) -> str:
        """A sandbox reset: the call's output says the state was reset; status cancelled, empty code and run id."""
        agg = {"status": "cancelled", "run_id": "", "code": "", "end_time": None, "messages": [],
               "jupyter_messages": []}
        return self.add({"author": {"role": "tool", "name": "python", "metadata": {}},
                         "content": {"content_type": "execution_output", "text": RESET_LONG if long else RESET_SHORT},
                         "metadata": {"aggregate_result": agg, "parent_id": self.cursor}})

    def system_error(self, name: str = "TransportError",
                     text: str = "Encountered exception: <class 'caas.internal.errors.TransportError'>.") -> str:
        """A tool-level failure with no aggregate_result."""
        return self.add({"author": {"role": "tool", "name": "python", "metadata": {}},
                         "content": {"content_type": "system_error", "name": name, "text": text}})

    def unknown(self, content_type: str = "sonic_webpage") -> str:
        return self.add({"author": {"role": "tool", "name": "web.run"},
                         "content": {"content_type": content_type, "weird": [1, {"x": None}]}})

    def canvas_create(self, name: str, doc_type: str, content: str, textdoc_id: str, *,
                      title: str | None = None, style: str = "code", create_source: str = "model") -> str:
        """A `canmore.create_textdoc` call and the tool's reply naming the canvas in `metadata.canvas`; returns the
        reply's node id. Style "code": the payload in content.text, channel commentary (late 2025); "text": in
        parts, no channel (mid 2025)."""
        payload = json.dumps({"name": name, "type": doc_type, "content": content},
                             separators=(",", ":") if style == "code" else None)
        if style == "code":
            call: dict[str, Any] = {"channel": "commentary", "content": {
                "content_type": "code", "language": "json", "response_format_name": None, "text": payload}}
        else:
            call = {"content": {"content_type": "text", "parts": [payload]}}
        self.add({"author": {"role": "assistant"}, "recipient": "canmore.create_textdoc", **call,
                  "metadata": {"model_slug": self.model}})
        shown = title or name
        return self.add({"author": {"role": "tool", "name": "canmore.create_textdoc", "metadata": {}},
                         "content": {"content_type": "text", "parts": [
                             f"Successfully created text document '{shown}' which will be referenced in all future "
                             f"messages with the unique identifier textdoc_id: '{textdoc_id}'"]},
                         "metadata": {"canvas": {"textdoc_id": textdoc_id, "textdoc_type": doc_type,
                                                 "title": shown, "version": 1, "create_source": create_source}}})

    def canvas_update(self, updates: list[dict[str, Any]] | str, textdoc_id: str | None, *,
                      failure: str | None = None, compact: bool = False,
                      versions: tuple[int, int] | None = None) -> str:
        """A `canmore.update_textdoc` call (payload in parts, as 2024-2025 exports hold it, indented or `compact`:
        raw text when `updates` is a string) and, with `textdoc_id`, the tool's reply (`failure`: its error_type,
        as ChatGPT refused it; `versions`: its from_version and version)."""
        payload = updates if isinstance(updates, str) else json.dumps(
            {"updates": updates}, **({"separators": (",", ":")} if compact else {"indent": 2}))
        node = self.add({"author": {"role": "assistant"}, "recipient": "canmore.update_textdoc",
                         "content": {"content_type": "text", "parts": [payload]},
                         "metadata": {"model_slug": self.model}})
        if textdoc_id is None:
            return node
        canvas: dict[str, Any] = {"textdoc_id": textdoc_id, "textdoc_type": "document", "version": 2}
        if versions:
            canvas.update(from_version=versions[0], version=versions[1])
        text = f"Successfully updated text document with textdoc_id '{textdoc_id}'"
        if failure:
            canvas = {"textdoc_id": textdoc_id, "is_failure": True, "error_type": failure}
            text = "Failed with error. Fix the error and try again before replying to the user."
        return self.add({"author": {"role": "tool", "name": "canmore.update_textdoc", "metadata": {}},
                         "content": {"content_type": "text", "parts": [text]}, "metadata": {"canvas": canvas}})

    # -- result ----------------------------------------------------------------------------------------
    def build(self, *, current_node: str | None = None) -> dict[str, Any]:
        return {
            "title": self.title, "create_time": self.mapping_first_time(),
            "update_time": self.clock, "mapping": self.mapping,
            "moderation_results": [], "current_node": current_node or self.current_node or self.cursor,
            "plugin_ids": None, "conversation_id": self.id, "conversation_template_id": None, "gizmo_id": None,
            "is_archived": False, "safe_urls": [], "default_model_slug": self.model, "id": self.id, **self.extra,
        }

    def mapping_first_time(self) -> float:
        times = [n["message"].get("create_time") for n in self.mapping.values() if n.get("message")]
        return min((t for t in times if t), default=T0)


# -- attachments ---------------------------------------------------------------------------------------
def attachment(name: str, size: int, mime: str = "text/csv", *, camel: bool = False, file_id: str | None = None
               ) -> dict[str, Any]:
    """An upload as `metadata.attachments` holds it: 2025 snake_case, or the older camelCase."""
    fid = file_id or "file-" + "".join(c for c in name if c.isalnum())[:12].ljust(22, "X")
    if camel:
        return {"name": name, "id": fid, "size": size, "mimeType": mime, "fileTokenSize": size // 4}
    return {"id": fid, "name": name, "size": size, "mime_type": mime, "file_token_size": size // 4,
            "is_big_paste": False, "source": "local"}


# -- ready-made conversations, one per era ---------------------------------------------------------------
def sales_conversation(conv_id: str = "conv-sales", title: str = "Sales by region") -> dict[str, Any]:
    """The "Done when" case (2025, `code` style): reads /mnt/data/sales.csv, writes a chart and a CSV, one
    failed cell, a figure, links in Markdown, backticks and %20 form. sales.csv is the upload."""
    c = Conversation(conv_id, title, model="gpt-4o", start=T0 + 86400)
    c.context()
    c.user("Here are the sales. Total revenue by region, please.",
           attachments=[attachment("sales.csv", 2048, file_id="file-SalesCsv0000000000000001")])
    c.code("import pandas as pd\r\ndf = pd.read_csv('/mnt/data/sales.csv')\r\ndf.head()")
    c.output("   region  revenue\n0  North  10.5", final="   region  revenue\n0  North  10.5")
    c.code("# Total revenue per region\nby_region = df.groupby('region')['revenue'].sum()\n"
           "by_region.to_csv('/mnt/data/revenue by region.csv')\nby_region")
    c.output("region\nNorth    10.5")
    c.code("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
           "ax = by_region.plot.bar()\nplt.savefig('/mnt/data/charts/by_region.png')\nplt.show()")
    c.output("", images=["file-service://file-ChartAAAAAAAAAAAAAAAAAAA"])
    c.say("Here is the chart: [Download the chart](sandbox:/mnt/data/charts/by_region.png) and the table "
          "`sandbox:/mnt/data/revenue%20by%20region.csv`.")
    c.user("Now the monthly trend.")
    c.code("df['month'] = pd.to_datetime(df['date']).dt.to_period('M')\ntrend = df.groupby('month').revenue.sum()")
    c.output(exception=("KeyError", "'date'"), status="failed_with_in_kernel_exception")
    c.code("trend = df.groupby('region').revenue.mean()\ntrend.to_csv('/mnt/data/monthly_trend.csv')")
    c.output("")
    c.say("Saved: sandbox:/mnt/data/monthly_trend.csv")
    c.user("Add the margin column next.")
    return c.build()


def era_2023(conv_id: str = "conv-2023", title: str = "Old code interpreter") -> dict[str, Any]:
    """July 2023: UUID root, gpt-4-code-interpreter, camelCase attachment, fileservice images, short reset."""
    c = Conversation(conv_id, title, model="gpt-4-code-interpreter", root="6c3a1f2e-0000-4000-8000-000000000001",
                     start=T0 - 2 * 365 * 86400)
    c.user("Plot the QR code", attachments=[attachment("data.xlsx", 9000, "application/vnd.ms-excel", camel=True)])
    c.code("import qrcode\nimg = qrcode.make('hi')\nimg.save('/mnt/data/qr.png')\nplt.show()")
    c.output("", images=["file-service://2073c3f9-f30e-4225-9728-6a3d2d7a41bd"])
    c.code("print(1)")
    c.reset()
    c.say("The session was reset. [qr](sandbox:/mnt/data/qr.png)")
    return c.build()


def era_2025_text(conv_id: str = "conv-2025", title: str = "GPT-5 thinking analysis") -> dict[str, Any]:
    """2025 GPT-5: code in parts with channel commentary, fileservice2 images, long reset, system_error,
    ada_visualizations, an upload as a multimodal image pointer."""
    c = Conversation(conv_id, title, model="gpt-5-thinking", start=T0 + 10 * 86400)
    c.user("Inspect the zip and list the files",
           attachments=[attachment("bundle.zip", 84487, "application/x-zip-compressed")],
           images=["sediment://file_00000000f9f06209bd573b464a3fb917"])
    c.code("# Inspect and extract the uploaded ZIP\r\nimport zipfile\r\nz = zipfile.ZipFile('/mnt/data/bundle.zip')\r\n"
           "z.extractall('/mnt/data/bundle')", style="text")
    c.output("", ada=[{"type": "table", "file_id": "file-Crv4uWS3MRcm865X6PMPcZ", "title": "File Inventory"}])
    c.code("from caas_jupyter_tools import display_dataframe_to_user\nimport matplotlib.pyplot as plt\nplt.plot([1])",
           style="text")
    c.output("", images=["file-service://file-1R4HnhuKkRLspJZ3RgN8D7"], fileservice2=True)
    c.code("open('/mnt/data/out/report.md','w').write('x')", style="text")
    c.system_error()
    c.code("print('again')", style="text")
    c.reset(long=True)
    c.say("Files: `sandbox:/mnt/data/out/report.md` and [inventory](sandbox:/mnt/data/Screenshot%202025-09-22.png)")
    return c.build()


def branched_conversation(conv_id: str = "conv-branch", title: str = "Edited question") -> dict[str, Any]:
    """An abandoned edit branch: the first answer ran code that wrote a file; the user edited the prompt."""
    c = Conversation(conv_id, title, model="gpt-4o", start=T0 + 20 * 86400)
    first = c.user("Clean the data", attachments=[attachment("raw.csv", 100)])
    c.code("import pandas as pd\npd.read_csv('/mnt/data/raw.csv').to_csv('/mnt/data/abandoned.csv')")
    c.output("")
    c.say("Done: [abandoned](sandbox:/mnt/data/abandoned.csv)")
    c.branch_from(c.mapping[first]["parent"])
    c.user("Clean the data, dropping empty rows", attachments=[attachment("raw.csv", 100)])
    c.code("import pandas as pd\npd.read_csv('/mnt/data/raw.csv').dropna().to_csv('/mnt/data/clean.csv')")
    c.output("")
    c.say("Done: [clean](sandbox:/mnt/data/clean.csv)")
    return c.build()


def plain_chat(conv_id: str = "conv-chat", title: str = "A plain chat") -> dict[str, Any]:
    """No code at all."""
    c = Conversation(conv_id, title, model="gpt-4o", start=T0 + 5 * 86400)
    c.user("What is a p-value?")
    c.say("The probability of data at least this extreme if the null hypothesis held.")
    return c.build()


def dangling_conversation(conv_id: str = "conv-dangling", title: str = "Dangling current node") -> dict[str, Any]:
    """`current_node` points at a node that does not exist; the newest leaf is the fallback."""
    c = Conversation(conv_id, title, start=T0 + 3 * 86400)
    c.user("Sum the column", attachments=[attachment("numbers.csv", 10)])
    c.code("import pandas as pd\npd.read_csv('/mnt/data/numbers.csv').sum()")
    c.output("x    6")
    c.unknown()
    return c.build(current_node="does-not-exist")


def canvas_conversation(conv_id: str = "conv-canvas", title: str = "Canvas work") -> dict[str, Any]:
    """Two canvases worked on in turns: a Python one (rewritten whole, then one line changed with a group
    reference, then an update whose pattern is not there) and a prose one (an update ChatGPT refused, then one
    whose JSON is cut off); the update without a reply goes to the canvas changed last."""
    c = Conversation(conv_id, title, model="gpt-4o", start=T0 + 30 * 86400)
    c.user("Write a cleaning script in a canvas")
    c.canvas_create("clean_sales.py", "code/python", "import pandas as pd\n", "tdoc-code", title="Clean Sales")
    c.canvas_update([{"pattern": ".*", "multiple": True,
                      "replacement": "import pandas as pd\n\ndf = pd.read_csv('sales.csv')\nprint(df.head())\n"}],
                    "tdoc-code")
    c.user("And a short write-up, as a document")
    c.canvas_create("findings", "document", "# Findings\n\nDraft.\n", "tdoc-doc", title="Findings: Q3 / West")
    c.canvas_update([{"pattern": "(print)\\(df\\.head\\(\\)\\)", "multiple": False,
                      "replacement": "\\1(df.describe())"}], "tdoc-code")
    c.canvas_update([{"pattern": "Nowhere", "multiple": False, "replacement": "x"}], "tdoc-doc",
                    failure="no_matches")
    c.canvas_update([{"pattern": "Draft\\.", "multiple": False, "replacement": "Revenue rose 4%."}], "tdoc-doc")
    c.canvas_update('{"updates": [{"pattern": ".*", "multiple": true, "replacement": "# Gone', None)
    c.canvas_update([{"pattern": "no such line", "multiple": True, "replacement": "x"},
                     {"pattern": "Revenue", "multiple": True, "replacement": "Sales"}], "tdoc-doc")
    c.say("Both canvases are ready.")
    return c.build()


# -- canvases as a 2025 web export holds them, wrapped in Markdown ------------------------------------------
def _web_2025(conv: dict[str, Any], *, request: str, user: dict[str, Any], reply: dict[str, Any] | None = None,
              gizmo: str | None = None) -> dict[str, Any]:
    """Give a built conversation the fields a 2025 web export writes: each message's author name and metadata,
    channel, end_turn, update_time and weight; the metadata of a user turn (`user`: its era's extra keys), of the
    assistant's turns and of the tools' replies (`reply`: extra keys of both, e.g. GPT-5's thinking_effort;
    `gizmo`: the custom GPT's id on the assistant's turns; `command` on a canvas reply); the conversation's newer
    top-level keys."""
    for node in conv["mapping"].values():
        msg = node["message"]
        if msg is None:
            continue
        msg["author"] = {"metadata": {}, "name": None, **msg["author"]}
        role, name = msg["author"]["role"], msg["author"]["name"]
        msg.setdefault("channel", None)
        msg.setdefault("end_turn", (msg["recipient"] == "all") if role == "assistant" else None)
        msg.setdefault("update_time", None)
        msg.setdefault("weight", 1)
        meta: dict[str, Any] = {"can_save": False, "request_id": request, "timestamp_": "absolute"}
        if role == "user":
            meta.update(user)
        else:
            model = msg["metadata"].get("model_slug", conv["default_model_slug"])
            meta.update(default_model_slug=conv["default_model_slug"], message_type="next", model_slug=model,
                        parent_id=node["parent"], **(reply or {}))
        if role == "assistant":
            meta.update(citations=[], content_references=[], is_complete=True,
                        finish_details={"stop_tokens": [200002], "type": "stop"})
            if gizmo:
                meta["gizmo_id"] = gizmo
        if role == "tool" and name in ("canmore.create_textdoc", "canmore.update_textdoc"):
            meta["command"] = name.removeprefix("canmore.")
        msg["metadata"] = {**meta, **msg["metadata"]}
    for key in ("plugin_ids", "safe_urls", "gizmo_id"):
        conv.pop(key, None)
    conv.update(async_status=None, atlas_mode_enabled=None, context_scopes=None, conversation_origin=None,
                disabled_tool_ids=[], gizmo_type="gpt" if gizmo else None, is_do_not_remember=False,
                is_starred=None, memory_scope="global_enabled", voice=None)
    return conv


def canvas_prose_conversation(conv_id: str = "68a1c0de-5e1f-8000-9a2b-0c0ffee00004",
                              title: str = "Rewriting the survey write-up") -> dict[str, Any]:
    """Two prose canvases, as a mid-2025 gpt-4o export holds them (payloads in parts, no channel): "Survey
    Findings Rewrite" created, then rewritten whole twice (".*", compact JSON; the replies carry from_version
    and version); "Survey Report Outline" created after it; then an update the export holds cut off (the call was
    stopped: no reply, so it goes to the outline) and a `canmore.get_textdoc_content` call answered by a
    system_error. The call's "name" is not the title the UI showed (the reply's)."""
    c = Conversation(conv_id, title, model="gpt-4o", root="4e1d7a52-0b3c-4f6e-9d28-7c5a0e3f0004", system_node=False,
                     start=T0 + 600)
    c.user("Rewrite this in a plainer voice. Don't change a single finding, just how it reads:\n\n"
           "Respondents overwhelmingly signalled a preference for hybrid arrangements...")
    c.canvas_create("survey_findings_rewrite", "document",
                    "Most people who answered want to work from home some days and at the office on others. "
                    "Only one in ten wants to be at the office every day.", "68a1c0f2b7d48191a0c4e6f1d2b3a405",
                    title="Survey Findings Rewrite", style="text")
    c.canvas_update([{"pattern": ".*", "multiple": True, "replacement":
                      "**SECTION 1: WHAT PEOPLE SAID**\n\nMost people who answered (612 of 840) want to split "
                      "their week between home and the office. Only one in ten wants the office every day."}],
                    "68a1c0f2b7d48191a0c4e6f1d2b3a405", compact=True, versions=(1, 7))
    c.canvas_update([{"pattern": ".*", "multiple": True, "replacement":
                      "**SECTION 2: WHERE THE NUMBERS DISAGREE**\n\nThe free-text answers are gloomier than the "
                      "ratings: a third mention the commute, though the average rating for it is 3.9 of 5."}],
                    "68a1c0f2b7d48191a0c4e6f1d2b3a405", compact=True, versions=(7, 39))
    c.canvas_create("survey_report_outline", "document",
                    "TITLE: Hybrid Work Survey 2025 — Report Outline\n\n1. Who answered\n2. What they want\n"
                    "3. Where the numbers disagree", "68a1c3a95e2c8191b7f0a1e2c3d4e506",
                    title="Survey Report Outline", style="text")
    c.user("No, put the full outline in the canvas")
    cut = c.canvas_update('{\n  "updates": [\n    {\n      "pattern": ".*",\n      "multiple": true,\n'
                          '      "replacement": "TITLE: Hybrid Work Survey 2025 — Full Outline\\n\\nPART I: WHO '
                          'ANSWERED\\n\\n1. Response rate by site', None)
    c.mapping[cut]["message"]["metadata"]["finish_details"] = {"reason": "client_stopped", "type": "interrupted"}
    c.add({"author": {"role": "assistant"}, "recipient": "canmore.get_textdoc_content",
           "content": {"content_type": "text", "parts": ['{"name": "survey_report_outline"}']},
           "metadata": {"model_slug": c.model}})
    c.add({"author": {"role": "tool", "name": "canmore.get_textdoc_content", "metadata": {}},
           "content": {"content_type": "system_error", "name": "tool_error",
                       "text": "Encountered exception: <class 'ValueError'>."}})
    user = {"content_references": [], "dictation": False, "gizmo_id": "g-SurveyWriter01", "image_gen_async": False,
            "image_results": [], "message_source": None, "real_time_audio_has_video": False, "search_queries": [],
            "search_result_groups": [], "trigger_async_ux": False}
    return _web_2025(c.build(), request="96a1c0de5e1f0004-LHR", user=user, gizmo="g-SurveyWriter01")


def canvas_code_conversation(conv_id: str = "6905a1b2-c3d4-8000-9e8f-0c0ffee00070",
                             title: str = "Export survey tables script") -> dict[str, Any]:
    """One code canvas, as a late-2025 GPT-5 export holds it: the prompt asks for a canvas (system_hints), the
    `canmore.create_textdoc` call has its payload in content.text (content_type code, language json, channel
    commentary), the reply names it "Export-survey Tables" (not the call's "Export-SurveyTables.ps1"), then the
    answer (channel final). Nothing to replay: no update, no warning."""
    c = Conversation(conv_id, title, model="gpt-5-thinking", system_node=False, start=T0 + 92 * 86400)
    prompt = c.user("write a powershell script that exports every table in survey.xlsx to its own csv in OUTPUT")
    c.mapping[prompt]["message"]["metadata"]["system_hints"] = ["canvas"]
    c.canvas_create("Export-SurveyTables.ps1", "code/powershell",
                    "<#\nExport every worksheet of survey.xlsx to OUTPUT\\<sheet>.csv.\nNeeds the ImportExcel "
                    "module (Install-Module ImportExcel -Scope CurrentUser).\n#>\n\nparam(\n    [string]$Workbook "
                    "= \"survey.xlsx\",\n    [string]$OutDir = \"OUTPUT\"\n)\n\nNew-Item -ItemType Directory "
                    "-Force -Path $OutDir | Out-Null\nforeach ($sheet in Get-ExcelSheetInfo -Path $Workbook) {\n"
                    "    $target = Join-Path $OutDir ($sheet.Name + \".csv\")\n    Import-Excel -Path $Workbook "
                    "-WorksheetName $sheet.Name | Export-Csv -Path $target -NoTypeInformation -Encoding UTF8\n"
                    "    Write-Host \"Wrote $target\" -ForegroundColor Green\n}\n", "6905a1e7c2b08191a3d5f7e9b1c2d370",
                    title="Export-survey Tables", create_source="system_hint_canvas")
    c.say("Script's on the canvas. Run it from the project folder; it needs the ImportExcel module once.\n\n"
          "- One CSV per worksheet, named after the sheet.\n- OUTPUT is created if it is missing.")
    turn = "e4f5a6b7-0070-4000-8000-000000000070"
    user = {"developer_mode_connector_ids": [], "message_source": None, "selected_github_repos": [],
            "serialization_metadata": {"custom_symbol_offsets": []}, "turn_exchange_id": turn}
    return _web_2025(c.build(), request="b1c2d3e4-0070-4000-8000-0c0ffee00070", user=user,
                     reply={"thinking_effort": "extended", "turn_exchange_id": turn})


def markdown_wrapper(conversation: dict[str, Any], number: int) -> str:
    """A Markdown file that only wraps one conversation, as some archiving scripts write them: a heading, a few
    `- key: value` lines, then the raw JSON (keys sorted, indent 2) in a ```json fence (which opens on line 8)."""
    head = [f"# Conversation {number}", "", f"- conversation_id: {conversation['conversation_id']}",
            f"- create_time: {conversation['create_time']}", f"- update_time: {conversation['update_time']}",
            f"- title_source: {conversation['title']}", "", "```json"]
    body = json.dumps(conversation, indent=2, sort_keys=True, ensure_ascii=False)
    return "\n".join(head) + "\n" + body + "\n```\n"


def write_markdown_wrapper(path: Path, conversation: dict[str, Any], number: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown_wrapper(conversation, number), encoding="utf-8")
    return path


# -- shapes seen in 2025-2026 exports (issue 19): every key a message has there ---------------------------------
def _as_exported(c: Conversation) -> Conversation:
    """Give every message the keys an export's message has (channel, end_turn, update_time, weight, the author's
    name and metadata) and the metadata the assistant's and the tool's messages carry: default_model_slug, and
    on a finished assistant message finish_details and is_complete; on a thinking model's, reasoning_status. A
    call left "in_progress" has neither finish_details nor is_complete, as exported."""
    thinking = "thinking" in c.model
    for node in c.mapping.values():
        message = node["message"]
        if not message:
            continue
        role = message["author"]["role"]
        message["author"].setdefault("name", None)
        message["author"].setdefault("metadata", {})
        for key, value in (("channel", None), ("end_turn", None), ("update_time", None), ("weight", 1.0)):
            message.setdefault(key, value)
        metadata = message["metadata"]
        if role == "assistant":
            metadata.setdefault("default_model_slug", c.model)
            metadata.setdefault("parent_id", node["parent"])
            if message["status"] == "finished_successfully":
                call = message["recipient"] in ("python", "container.exec")
                message["end_turn"] = not call
                metadata.setdefault("finish_details", {"stop_tokens": [200007 if call else 200002], "type": "stop"})
                metadata.setdefault("is_complete", True)
        elif role == "tool":
            metadata.setdefault("default_model_slug", c.model)
            agg = metadata.get("aggregate_result")
            if agg:
                message["update_time"] = agg.get("end_time")
                agg.setdefault("update_time", agg.get("end_time"))
        if thinking and role in ("assistant", "tool"):
            metadata.setdefault("reasoning_status", "is_reasoning")
    return c


def _kernel_messages(c: Conversation, output_id: str, result: str | None) -> None:
    """The jupyter_messages of a run as exports hold them: busy, execute_input, execute_result, idle."""
    agg = c.mapping[output_id]["message"]["metadata"]["aggregate_result"]
    header = {"msg_id": f"{agg['run_id']}_3_1", "version": "5.3"}
    messages: list[dict[str, Any]] = [{"content": {"execution_state": "busy"}, "msg_type": "status",
                                       "parent_header": header},
                                      {"msg_type": "execute_input", "parent_header": header}]
    if result is not None:
        messages.append({"content": {"data": {"text/plain": result}}, "msg_type": "execute_result",
                         "parent_header": header})
    messages.append({"content": {"execution_state": "idle"}, "msg_type": "status", "parent_header": header})
    agg["jupyter_messages"] = messages + agg["jupyter_messages"]


#: The two uploads of `numbered_uploads_conversation`: names that differ only by "(n)", sizes that differ.
NUMBERED_UPLOADS = (("D02_ THE LONG THAW (1).md", 41203), ("D02_ THE LONG THAW (2).md", 56114))


def numbered_uploads_conversation(conv_id: str = "6a71c2d0-1f3e-8b2a-9c41-3d5e7f901b22",
                                  title: str = "Draft consistency review") -> dict[str, Any]:
    """A GPT-5 thinking chat (2026, `code` style): the user uploads `D02_ THE LONG THAW (1).md`, the call opens
    it, and the user's next message (the chat's last) uploads `D02_ THE LONG THAW (2).md`, a later and larger
    draft: two uploads whose names differ only by "(n)", of different sizes (as every such pair in a real export
    of 224 conversations was). No system message: the root's first child is the user's."""
    (first, first_size), (second, second_size) = NUMBERED_UPLOADS
    c = Conversation(conv_id, title, model="gpt-5-2-thinking", start=T0 + 160 * 86400, system_node=False,
                     uuid_ids=True)
    c.user("it's only about 6500 words", attachments=[attachment(
        first, first_size, "text/markdown", file_id="file_00000000a1b2c3d4e5f60718293a4b5c")])
    c.code(f"from pathlib import Path\npath = Path('/mnt/data/{first}')\n"
           "text = path.read_text(encoding='utf-8', errors='ignore')\nlen(text), text[:200]\n")
    result = "(41050,\n '# **D02: THE LONG THAW**\\n\\n---\\n\\n# **CHAPTER 1: THE FIRST CRACK**\\n')"
    out = c.output(result, final=result)
    _kernel_messages(c, out, result)
    c.user("now go through this one and tighten the prose, same rules as before", attachments=[attachment(
        second, second_size, "text/markdown", file_id="file_00000000f0e1d2c3b4a5968778695a4b")])
    return _as_exported(c).build()


#: The code the cut-off call of `cut_off_call_conversation` ran, whole; the call's text stops mid-list, inside
#: the last `append([...])`, leaving `CUT_OFF_CALL_TEXT`.
CUT_OFF_CALL_CODE = (
    "def get_field(chunk, field):\n"
    "    m=re.search(rf\"- \\*\\*{re.escape(field)}:\\*\\* (.+)\", chunk)\n"
    "    return m.group(1).strip() if m else \"\"\n"
    "summary_table=[]\n"
    "for n in range(1,9):\n"
    "    title, chunk = get_section_chunk(n)\n"
    "    owner=get_field(chunk,\"Owner\")\n"
    "    due=get_field(chunk,\"Due\")\n"
    "    state=get_field(chunk,\"State\")\n"
    "    risk=get_field(chunk,\"Risk\")\n"
    "    notes=extract_notes(chunk)\n"
    "    summary_table.append([n,title,owner,due,state,risk,notes])\n"
    "summary_table[0]\n"
)
CUT_OFF_CALL_TEXT = CUT_OFF_CALL_CODE[:CUT_OFF_CALL_CODE.index("state,risk,notes])")]


def cut_off_call_conversation(conv_id: str = "6a4fd0e2-c6c4-832c-8382-1c2d3e4f5a6b",
                              title: str = "Project plan summary") -> dict[str, Any]:
    """A custom GPT's chat (GPT-5 thinking, `code` style) whose call was cut off mid-stream: the call's message
    stayed "in_progress" (no finish_details, no is_complete) and its text stops mid-list; the tool's reply ran
    the whole code (aggregate_result.code, status "success") and is the chat's last message. The cells before it
    (which define get_section_chunk and extract_notes) are not in it."""
    c = Conversation(conv_id, title, model="gpt-5-2-thinking", start=T0 + 135 * 86400, system_node=False,
                     uuid_ids=True)
    c.extra.update({"conversation_template_id": "g-6a4fcde83e708191b7b0d84f00000000", "gizmo_type": "gpt"})
    c.user("Generate a complete summary table for the plan")
    call = c.code(CUT_OFF_CALL_TEXT)
    c.mapping[call]["message"]["status"] = "in_progress"
    result = "[1,\n 'Kick-off',\n 'Dana (lead)',\n 'Week 1',\n 'Done',\n 'Low',\n '- Scope agreed']"
    out = c.output(result, code=CUT_OFF_CALL_CODE, final=result)
    _kernel_messages(c, out, result)
    return _as_exported(c).build()


def abandoned_branch_conversation(conv_id: str = "6a8d4a45-96d4-8330-8467-0a1b2c3d4e5f",
                                  title: str = "Noir style rewrite") -> dict[str, Any]:
    """A chat (gpt-4o, 2025, UUID root) whose code ran only on a branch the user then left by editing a prompt:
    after the first answer, one branch asks for a .docx, whose call writes it, then "try again" and a second
    call writes another; the other branch (an edit of that prompt, the branch the chat shows) has no code."""
    c = Conversation(conv_id, title, model="gpt-4o", root="2457a3a1-aaf4-4b0c-bb83-5f1e2d3c4b5a",
                     start=T0 + 86400 / 2, system_node=False, uuid_ids=True)
    c.user("Rewrite this in a hard-boiled noir voice. Don't change the story.", attachments=[{
        "id": "file-Hq7sLr2Wm9Pd4Xc6Vb1NzT", "mime_type":
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "name": "draft.docx",
        "size": 184032}])
    fork = c.say("Here's the prologue, rewritten, in a working document. Chapters 1 to 10 next.")
    c.user("Write the prologue through chapter 10 in full and give it to me as a downloadable docx")
    for name, prompt in (("noir_rewrite_prologue_to_ch10.docx", "Try again, that was placeholder text"),
                         ("noir_rewrite_full_ch1-10.docx", None)):
        c.code("from docx import Document\n\ndoc = Document()\ndoc.add_heading(\"Noir Rewrite\", 0)\n"
               "for chapter in ['Prologue'] + [f'Chapter {i}' for i in range(1, 11)]:\n"
               "    doc.add_heading(chapter, level=1)\n"
               f"path = '/mnt/data/{name}'\ndoc.save(path)\n'{name}'")
        out = c.output(f"'{name}'", final=f"'{name}'")
        _kernel_messages(c, out, f"'{name}'")
        c.say(f"Your document is ready:\n\n[{name}](sandbox:/mnt/data/{name})")
        if prompt:
            c.user(prompt)
    c.branch_from(fork)
    edit = c.user("It only has the prologue, not chapters 1-10")
    c.mapping[edit]["message"]["metadata"]["is_visually_hidden_from_conversation"] = False
    c.say("The document now says chapters 1 to 10 follow; I'm starting on chapter 1 now.")
    return _as_exported(c).build()


def many_branches_conversation(conv_id: str = "6a9b0c1d-2e3f-8a4b-9c5d-6e7f8091a2b3",
                               title: str = "Trim silence from a recording") -> dict[str, Any]:
    """41 code cells across the branches of a chat (gpt-4o), 10 of them on the branch it shows: 4 before the
    user edited their second prompt twice, 20 and 11 on the two branches left, 6 on the one shown (the last)."""
    c = Conversation(conv_id, title, model="gpt-4o", start=T0 + 200 * 86400, system_node=False, uuid_ids=True)
    c.user("Remove the silences from this recording", attachments=[attachment("interview.m4a", 8_412_330,
                                                                              "audio/mp4")])
    for i in range(4):
        c.code(f"from pydub import AudioSegment\nstep = {i}\n"
               "audio = AudioSegment.from_file('/mnt/data/interview.m4a')\nlen(audio)")
        c.output("1834000")
    fork = c.say("The recording is 30 minutes long; the silences are below -40 dBFS.")
    for prompt, cells in (("Cut every silence longer than a second", 20), ("Cut silences over 2 s, keep 0.3 s", 11),
                          ("Cut silences over 2 s and export an mp3", 6)):
        c.branch_from(fork)
        c.user(prompt)
        for i in range(cells):
            c.code(f"from pydub.silence import split_on_silence\nchunks = split_on_silence(audio, {500 + i * 100}, -40)"
                   f"\nlen(chunks)")
            c.output(str(40 + i))
        c.say("Done.")
    return _as_exported(c).build()


def shell_conversation(conv_id: str = "6a3b9e10-7c21-8332-a4f0-5d6e7f8091c2",
                       title: str = "Convert the report and chart sales") -> dict[str, Any]:
    """2025 GPT-5 thinking: shell steps in the sandbox (``container.exec``) between Python cells, in each shape
    the exports hold: the JSON call with a timeout and a text reply, a pip install that failed (system_error), a
    bare ``bash -lc`` call running Python from the shell with an execution_output reply, and a plain argument
    list."""
    c = Conversation(conv_id, title, model="gpt-5-thinking", start=T0 + 40 * 86400)
    c.user("Turn report.docx into a PDF, then chart sales.csv",
           attachments=[attachment("report.docx", 20480, "application/vnd.openxmlformats-officedocument"),
                        attachment("sales.csv", 1234)])
    c.shell("cd /mnt/data && soffice --headless --convert-to pdf report.docx --outdir /mnt/data/pdf",
            timeout=100000)
    c.shell_output("convert /mnt/data/report.docx -> /mnt/data/pdf/report.pdf using filter : writer_pdf_Export\n")
    c.code("import pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\ndf.describe()", style="text")
    c.output("", final="count 4")
    c.shell("pip install fpdf2")
    c.shell_output("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None))\n"
                   "ERROR: Could not find a version that satisfies the requirement fpdf2\n"
                   "Unknown error: exit code: 1", style="error")
    c.shell("python - <<'PY'\nimport zipfile\nz = zipfile.ZipFile('/mnt/data/charts.zip', 'w')\n"
            "z.write('/mnt/data/pdf/report.pdf')\nprint(z.namelist())\nPY", style="bare")
    c.shell_output("['mnt/data/pdf/report.pdf']\n", style="execution_output")
    c.shell(["ls", "-l", "/mnt/data/my folder"])
    c.shell_output("total 0\n")
    c.say("Here it is: [report.pdf](sandbox:/mnt/data/pdf/report.pdf)")
    return _as_exported(c).build()


def shell_only_conversation(conv_id: str = "690cd704-aaaa-832d-99c2-000000000065",
                            title: str = "Agent shell work", steps: int = 65) -> dict[str, Any]:
    """Agent mode (GPT-5): ``steps`` shell steps and no Python cell, each answered with text parts."""
    c = Conversation(conv_id, title, model="gpt-5")
    c.user("Merge the chapters into one file")
    for number in range(1, steps + 1):
        c.shell(f"ls -l /home/oai/share | head -n {number}", timeout=10000 if number % 2 else None)
        c.shell_output(f"step {number}\n")
    c.say("Done.")
    return _as_exported(c).build()


def all_variants() -> list[dict[str, Any]]:
    """One of each, oldest first (as exports list them: by update time, any order is tolerated)."""
    return [era_2023(), plain_chat(), dangling_conversation(), era_2025_text(), branched_conversation(),
            sales_conversation()]


#: Figure assets for `all_variants()`, as a classic export names them (`<file id>-<uuid>.png`).
def classic_assets() -> dict[str, bytes]:
    return {"file-ChartAAAAAAAAAAAAAAAAAAA-61ce0ba3-fada-4fe4-8841-d5fdf719c746.png": PNG_1X1,
            "2073c3f9-f30e-4225-9728-6a3d2d7a41bd-qr.png": PNG_1X1}


#: The same assets as a 2026 export stores them: `<id>.dat`, no extension.
def sharded_assets() -> dict[str, bytes]:
    return {"file-ChartAAAAAAAAAAAAAAAAAAA.dat": PNG_1X1, "2073c3f9-f30e-4225-9728-6a3d2d7a41bd.dat": PNG_1X1}


# -- writers -------------------------------------------------------------------------------------------
def dumps(data: Any) -> str:
    """As the export writes it: one long line, Python's default separators, non-ASCII kept."""
    return json.dumps(data, ensure_ascii=False)


def write_conversations_json(path: Path, conversations: list[dict[str, Any]], *, wrapper: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: Any = {"conversations": conversations} if wrapper else conversations
    path.write_text(dumps(data), encoding="utf-8")
    return path


def write_classic_zip(path: Path, conversations: list[dict[str, Any]], assets: dict[str, bytes] | None = None,
                      *, prefix: str = "", html: bool = True) -> Path:
    """The 2023-2025 layout: conversations.json, chat.html, user.json, assets at the root (or under `prefix`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(prefix + "conversations.json", dumps(conversations))
        if html:
            zf.writestr(prefix + "chat.html", html_text(conversations))
        zf.writestr(prefix + "user.json", dumps({"id": "user-1", "email": "someone@example.com"}))
        zf.writestr(prefix + "message_feedback.json", "[]")
        for name, data in (assets or {}).items():
            zf.writestr(prefix + name, data)
    return path


def write_sharded_zip(path: Path, conversations: list[dict[str, Any]], assets: dict[str, bytes] | None = None,
                      *, shard_size: int = 2) -> Path:
    """The 2026 layout: export_manifest.json, conversations-000.json…, `<id>.dat` assets and their name map."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shards = [conversations[i:i + shard_size] for i in range(0, len(conversations), shard_size)] or [[]]
    names = [f"conversations-{i:03d}.json" for i in range(len(shards))]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export_manifest.json", dumps({"version": 1, "conversations": {"files": names,
                                                                                   "count": len(conversations)}}))
        for name, shard in zip(names, shards, strict=True):
            zf.writestr(name, dumps(shard))
        zf.writestr("conversation_asset_file_names.json",
                    dumps({name: name.removesuffix(".dat") + ".png" for name in assets or {}}))
        zf.writestr("library_files.json", "[]")
        zf.writestr("user.json", dumps({"id": "user-1"}))
        for name, data in (assets or {}).items():
            zf.writestr(name, data)
    return path


def write_folder(path: Path, conversations: list[dict[str, Any]], assets: dict[str, bytes] | None = None) -> Path:
    """An extracted classic export."""
    write_conversations_json(path / "conversations.json", conversations)
    (path / "chat.html").write_text(html_text(conversations), encoding="utf-8")
    for name, data in (assets or {}).items():
        (path / name).write_bytes(data)
    return path


def html_text(conversations: list[dict[str, Any]]) -> str:
    """chat.html as the export writes it: the data in `var jsonData = [...]` inside a script."""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"UTF-8\"><title>ChatGPT Data Export</title></head>\n"
            "<body><div id=\"root\"></div>\n<script>\nvar jsonData = " + dumps(conversations).replace("</", "<\\/")
            + ";\n\nfunction getConversationMessages(conversation) { return []; }\n</script>\n</body></html>\n")


def write_html(path: Path, conversations: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_text(conversations), encoding="utf-8")
    return path


def write_single_json(path: Path, conversation: dict[str, Any], *, shape: str = "api") -> Path:
    """One conversation: "api" is the backend response (one object), "exporter" an array of one (pionxzh)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: Any = conversation if shape == "api" else [conversation]
    path.write_text(dumps(data), encoding="utf-8")
    return path


def truncate(path: Path, keep: float = 0.6) -> Path:
    """Cut a file to `keep` of its size (a download that stopped half-way)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def mark_encrypted(path: Path) -> Path:
    """Set the "encrypted" flag on every member of a zip (as a password-protected export has it)."""
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start >= 0:
            data[start + flag_at] |= 0x01
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path
