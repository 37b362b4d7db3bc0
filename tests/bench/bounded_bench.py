"""Benchmark: hostile or pathological inputs are dealt with in bounded time.

The unit tests prove what happens to these inputs (a bomb is refused, a huge line is cut, a long log is read to
its end); how long it takes depends on the machine, so it is measured here, where a loaded machine makes a
figure slower instead of making a test fail. Each figure has an absolute limit; its floor (reading the same
bytes once, in the same run) is shown for scale.

    python tests/bench/run.py bounded
"""

from __future__ import annotations

import random
import statistics
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Figure  # noqa: E402


def _median_time(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _read_floor(path: Path, repeat: int) -> float:
    return _median_time(path.read_bytes, repeat)


def _log(work: Path) -> tuple[str, Path]:
    rng = random.Random(7)
    words = ["ok", "request", "served", "user", "id", "cache", "hit", "miss", "worker", "started", "finished", "job",
             "queue", "batch", "rows", "loaded"]
    lines = [f"2025-11-14T10:{i % 60:02d}:{i % 60:02d}Z INFO [worker-{i % 8}] "
             + " ".join(rng.choice(words) for _ in range(8)) + f" n={rng.randint(0, 100_000)}"
             for i in range(65_000)]
    log = "\n".join(lines) + "\nhttp 502 upstream: failed to fetch\n" + "\n".join(lines[:10_000]) + \
        "\nERROR: Code interpreter session expired\n"
    path = work / "long.log"
    path.write_text(log, encoding="utf-8")
    return log, path


def _png_bomb(path: Path) -> Path:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
                     + chunk(b"IEND", b""))
    return path


def _laughs(path: Path) -> Path:
    entities = "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10))
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e0 "ha">{entities}]>'
                    '<svg width="1" height="1">&e9;</svg>')
    return path


def _zip_bomb(path: Path, size: int = 8 * 1024 * 1024) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(size // len(block)):
                member.write(block)
    return path


def _big_workbook(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # no <dimension> record
    sheet = book.create_sheet("Big")
    sheet.append(["n", "square"])
    for n in range(30_000):
        sheet.append([n, n * n])
    book.save(path)
    return path


def bench_bounded(work: Path, repeat: int) -> list[Figure]:
    from liferaft.core import preflight
    from liferaft.core.diagnose.classify import classify
    from liferaft.core.inspect.delimited import inspect_delimited
    from liferaft.core.inspect.image import inspect_image
    from liferaft.core.inspect.workbook import inspect_workbook

    work.mkdir(parents=True, exist_ok=True)
    figures = []

    log, log_path = _log(work)
    figures.append(Figure("diagnose a 5 MB log", _median_time(lambda: classify(log), repeat),
                          _read_floor(log_path, repeat), 0, floor_name="read the log's bytes", limit=1.0))

    line = work / "one_line.csv"
    line.write_bytes(b"x" * 6_000_000)
    figures.append(Figure("preview a CSV that is one 6 MB line", _median_time(lambda: inspect_delimited(line), repeat),
                          _read_floor(line, repeat), 0, floor_name="read the file's bytes", limit=2.0))

    book = _big_workbook(work / "big.xlsx")
    figures.append(Figure("preview 5 rows of a 30,000-row workbook",
                          _median_time(lambda: inspect_workbook(book, max_rows=5), repeat),
                          _read_floor(book, repeat), 0, floor_name="read the file's bytes", limit=1.0))

    bomb = _zip_bomb(work / "bomb.xlsx")
    figures.append(Figure("refuse an 8 MB zip bomb workbook", _median_time(lambda: inspect_workbook(bomb), repeat),
                          _read_floor(bomb, repeat), 0, floor_name="read the file's bytes", limit=0.5))
    figures.append(Figure("check an 8 MB zip bomb workbook",
                          _median_time(lambda: preflight.check_file(bomb, "bomb.xlsx"), repeat),
                          _read_floor(bomb, repeat), 0, floor_name="read the file's bytes", limit=0.5))

    png = _png_bomb(work / "bomb.png")
    figures.append(Figure("refuse a 10-gigapixel PNG", _median_time(lambda: inspect_image(png), repeat),
                          _read_floor(png, repeat), 0, floor_name="read the file's bytes", limit=0.5))

    svg = _laughs(work / "laughs.svg")
    figures.append(Figure("preview an SVG of nested entities", _median_time(lambda: inspect_image(svg), repeat),
                          _read_floor(svg, repeat), 0, floor_name="read the file's bytes", limit=0.5))

    huge = work / "huge.txt"
    with open(huge, "wb") as handle:  # sparse
        handle.truncate(20_000_000)
    figures.append(Figure("estimate the tokens of a 20 MB text",
                          _median_time(lambda: preflight.check_file(huge, "huge.txt"), repeat),
                          _read_floor(huge, repeat), 0, floor_name="read the file's bytes", limit=2.0))
    return figures
