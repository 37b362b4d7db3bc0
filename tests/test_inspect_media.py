"""Previewing images, PDFs, archives and unknown files: what they are, from headers only; nothing extracted."""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from liferaft.core.inspect import binary as binary_module
from liferaft.core.inspect import inspect_file
from liferaft.core.inspect.binary import hex_dump, inspect_archive, inspect_binary
from liferaft.core.inspect.image import inspect_image
from liferaft.core.inspect.pdf import inspect_pdf
from tests.inspect_helpers import facts, look

# --- images -------------------------------------------------------------------------------------------------------


def _png(path: Path, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> Path:
    from PIL import Image

    Image.new(mode, size, "red").save(path, "PNG")
    return path


def test_png(tmp_path: Path) -> None:
    preview = look(inspect_image, _png(tmp_path / "chart.png", mode="RGBA"))
    assert preview.error is None and preview.kind == "image"
    assert facts(preview) == {"format": "PNG", "dimensions": "40 × 30 px", "colours": "RGB with transparency"}
    assert preview.notes == ()


def test_jpeg_with_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    image = Image.new("RGB", (64, 48))
    exif = image.getexif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    image.save(path, exif=exif, dpi=(300, 300))
    found = facts(look(inspect_image, path))
    assert found["format"] == "JPEG"
    assert found["dimensions"] == "64 × 48 px"
    assert found["orientation"].startswith("rotated 90°")
    assert found["resolution"] == "300 dpi"


def test_animated_gif_frames(tmp_path: Path) -> None:
    from PIL import Image

    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "green", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    found = facts(look(inspect_image, path))
    assert found["format"] == "GIF" and found["frames"] == "3"
    still = tmp_path / "still.gif"
    frames[0].save(still)
    assert facts(look(inspect_image, still))["frames"] == "1"


def test_truncated_images(tmp_path: Path) -> None:
    from PIL import Image

    data = _png(tmp_path / "whole.png", (200, 200)).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) - 20])
    preview = look(inspect_image, cut)
    assert preview.error is None and facts(preview)["dimensions"] == "200 × 200 px"
    assert any("cut short" in note for note in preview.notes)
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "blue").save(buffer, "JPEG")
    jpeg = tmp_path / "cut.jpg"
    jpeg.write_bytes(buffer.getvalue()[:-100])
    assert any("cut short" in note for note in look(inspect_image, jpeg).notes)
    header_only = tmp_path / "stub.png"
    header_only.write_bytes(data[:20])
    preview = look(inspect_image, header_only)
    assert preview.error is not None and "damaged or cut short" in preview.error


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    """A 300-byte PNG claiming 100,000 × 100,000 pixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 100))
                     + _chunk(b"IEND", b""))
    preview = look(inspect_image, path)  # refused from the header: no pixel is decoded
    assert preview.error is not None
    assert "10,000,000,000 pixels" in preview.error and "decompression bomb" in preview.error


def test_very_large_but_plausible_image_is_a_note(tmp_path: Path) -> None:
    header = struct.pack(">IIBBBBB", 10_000, 10_000, 8, 2, 0, 0, 0)  # 100 MP: over the warning limit only
    path = tmp_path / "big.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"") + _chunk(b"IEND", b""))
    preview = look(inspect_image, path)
    assert preview.error is None and facts(preview)["dimensions"] == "10,000 × 10,000 px"
    assert any("100 megapixels" in note for note in preview.notes)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    path.write_text("<html>Session expired</html>")
    preview = look(inspect_image, path)
    assert preview.error is not None and "not an image" in preview.error and "text" in preview.error


def test_svg_size_from_the_root_element(tmp_path: Path) -> None:
    path = tmp_path / "chart.svg"
    path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="640" height=\'480px\'\n'
                    '     viewBox="0 0  640 480"><rect width="10" height="10"/></svg>\n')
    preview = look(inspect_image, path)
    assert facts(preview) == {"format": "SVG (vector drawing)", "dimensions": "640 × 480px", "view box": "0 0 640 480"}
    assert preview.text is not None and preview.text.startswith("<?xml") and preview.text_format == "xml"


def test_svg_entities_are_never_expanded(tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10))
    path = tmp_path / "laughs.svg"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e0 "ha">{entities}]>'
                    '<svg width="1" height="1">&e9;</svg>')
    preview = look(inspect_image, path)  # expanded, &e9; would be 2 GB of "ha"
    assert len(preview.text or "") < 2000
    assert any("entities" in note for note in preview.notes)


# --- PDF ----------------------------------------------------------------------------------------------------------


def _pdf(path: Path, *, password: str | None = None, owner_only: bool = False) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=842, height=595)
    writer.add_metadata({"/Title": "Q1 revenue", "/Author": "Ana", "/Producer": "liferaft tests"})
    if password is not None or owner_only:
        writer.encrypt(user_password="" if owner_only else password, owner_password="owner", algorithm="RC4-128")
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def test_pdf_facts(tmp_path: Path) -> None:
    preview = look(inspect_pdf, _pdf(tmp_path / "report.pdf"))
    assert preview.error is None and preview.kind == "pdf"
    found = facts(preview)
    assert found["pages"] == "2"
    assert found["title"] == "Q1 revenue"
    assert found["author"] == "Ana"
    assert found["producer"] == "liferaft tests"
    assert found["page size"] == "A4 (210 × 297 mm)"
    assert found["encrypted"] == "no"
    assert found["PDF version"] == "1.3"
    assert preview.notes == ()


def test_encrypted_pdfs(tmp_path: Path) -> None:
    locked = facts(look(inspect_pdf, _pdf(tmp_path / "locked.pdf", password="secret")))
    assert locked["encrypted"] == "yes, a password is needed to read it"
    assert "title" not in locked
    restricted = facts(look(inspect_pdf, _pdf(tmp_path / "restricted.pdf", owner_only=True)))
    assert restricted["encrypted"] == "yes (no password needed)"
    assert restricted["title"] == "Q1 revenue" and restricted["pages"] == "2"


def test_aes_pdf_without_the_crypto_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    path = _pdf(tmp_path / "aes.pdf", owner_only=True)

    def needs_cryptography(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", needs_cryptography)
    preview = look(inspect_pdf, path)
    assert preview.error is None
    assert facts(preview)["encrypted"] == "yes (AES; Liferaft cannot tell whether a password is needed)"


def test_garbage_and_html_named_pdf(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(os.urandom(3000))
    assert "is not a PDF" in (look(inspect_pdf, garbage).error or "")
    page = tmp_path / "download.pdf"
    page.write_text("<!DOCTYPE html><html><body>File not found</body></html>")
    assert "web page (HTML)" in (look(inspect_pdf, page).error or "")


def test_damaged_and_truncated_pdfs(tmp_path: Path) -> None:
    data = _pdf(tmp_path / "whole.pdf").read_bytes()
    stub = tmp_path / "stub.pdf"
    stub.write_bytes(b"%PDF-1.7\n" + os.urandom(500))
    preview = look(inspect_pdf, stub)
    assert preview.error is not None or any("cut short" in note for note in preview.notes)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) * 2 // 3])
    assert "cut.pdf is cut short" in (look(inspect_pdf, cut).error or "")


def test_pdf_through_the_registry(tmp_path: Path) -> None:
    assert facts(inspect_file(_pdf(tmp_path / "r.pdf"), "pdf"))["pages"] == "2"


# --- archives -----------------------------------------------------------------------------------------------------


def test_zip_listing(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/", "")
        for n in range(60):
            archive.writestr(f"data/part{n:02}.csv", "a,b\n" * 250)
    preview = look(inspect_archive, path)
    found = facts(preview)
    assert found["format"] == "zip"
    assert found["entries"] == "60 files, 1 folder"
    assert found["unpacked size"] == "60.0 KB"
    lines = (preview.text or "").splitlines()
    assert len(lines) == 51 and lines[1].split() == ["1.0", "KB", "data/part00.csv"]
    assert lines[-1] == "… and 11 more"


def test_zip_notes(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("zeros.bin", "w") as member:
        block = b"\x00" * (1 << 20)
        for _ in range(8):
            member.write(block)
    preview = look(inspect_archive, path)
    assert facts(preview)["unpacked size"] == "8.4 MB"  # under 1 GB: no warning for a merely compressible file
    assert not preview.notes
    workbook = tmp_path / "book.zip"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert any("Excel workbook with a .zip name" in note for note in look(inspect_archive, workbook).notes)


def test_damaged_zip(tmp_path: Path) -> None:
    path = tmp_path / "cut.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello" * 100)
    path.write_bytes(buffer.getvalue()[:-30])
    assert "damaged or cut short" in (look(inspect_archive, path).error or "")


def _tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_tar_gz_listing(tmp_path: Path) -> None:
    path = _tar_gz(tmp_path / "project.tar.gz", {"SOURCE/a.csv": b"a,b\n1,2\n", "CODE/clean.py": b"print(1)\n"})
    preview = look(inspect_archive, path)
    found = facts(preview)
    assert found == {"format": "tar + gzip", "entries": "2 files", "unpacked size": "17 B"}
    assert "SOURCE/a.csv" in (preview.text or "") and "CODE/clean.py" in (preview.text or "")


def test_compressed_tar_is_listed_within_a_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _tar_gz(tmp_path / "big.tgz", {f"part{n}.bin": os.urandom(20_000) for n in range(10)})
    monkeypatch.setattr(binary_module, "MAX_ARCHIVE_READ", 50_000)
    preview = look(inspect_archive, path)
    assert preview.error is None
    assert facts(preview)["entries"].startswith("at least ")
    assert any("listed from the first" in note for note in preview.notes)


def test_plain_tar(tmp_path: Path) -> None:
    path = tmp_path / "plain.tar"
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("notes.md")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    assert facts(look(inspect_archive, path))["entries"] == "1 file"


def test_single_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    with open(path, "wb") as raw, gzip.GzipFile("orders.csv", "wb", fileobj=raw) as packed:
        packed.write(b"order_id,region\n" + b"1,North\n" * 1000)
    preview = look(inspect_archive, path)
    found = facts(preview)
    assert found["format"] == "gzip (one compressed file)"
    assert found["original name"] == "orders.csv"
    assert found["unpacked size"] == "8.0 KB"
    assert found["holds"] == "text"
    assert (preview.text or "").startswith("order_id,region\n1,North\n")


def test_damaged_gzip_and_unknown_archive(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    for data in (b"\x1f\x8b\x08\x00" + os.urandom(200), b"\x1f\x8b"):
        path.write_bytes(data)
        preview = look(inspect_archive, path)
        assert preview.error is not None and "cannot be decompressed" in preview.error
    seven = tmp_path / "a.7z"
    seven.write_bytes(b"7z\xbc\xaf\x27\x1c" + b"\x00" * 30)
    assert any("7z" in note for note in look(inspect_archive, seven).notes)
    other = tmp_path / "fake.zip"
    other.write_text("hello")
    assert "not an archive Liferaft recognises" in (look(inspect_archive, other).error or "")


# --- anything else ------------------------------------------------------------------------------------------------


def test_binary_hex_dump_and_guess(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "cache.db"
    with sqlite3.connect(path) as connection:
        connection.execute("create table t (a)")
    connection.close()
    preview = look(inspect_binary, path)
    found = facts(preview)
    assert found["looks like"] == "an SQLite database"
    assert found["size"].endswith(f"({path.stat().st_size:,} bytes)")
    lines = (preview.text or "").splitlines()
    assert len(lines) == 16
    assert lines[0].startswith("00000000  53 51 4c 69 74 65 20 66  6f 72 6d 61 74 20 33 00")
    assert lines[0].endswith("|SQLite format 3.|")


def test_binary_hints(tmp_path: Path) -> None:
    import pickle

    pickled = tmp_path / "model.bin"
    pickled.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    preview = look(inspect_binary, pickled)
    assert facts(preview)["looks like"] == "a Python pickle"
    assert any("never load a pickle" in note for note in preview.notes)
    renamed = tmp_path / "chart.dat"
    _png(renamed)
    assert any("give it an image extension" in note for note in look(inspect_binary, renamed).notes)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert look(inspect_binary, empty).notes == ("the file is empty",)


def test_hex_dump_of_a_short_line() -> None:
    assert hex_dump(b"AB\x00") == "00000000  41 42 00" + " " * 42 + "|AB.|"


# --- the promises every inspector makes ---------------------------------------------------------------------


@pytest.mark.parametrize("inspector", [inspect_image, inspect_pdf, inspect_archive, inspect_binary])
def test_never_raises_on_any_file(inspector, tmp_path: Path) -> None:
    samples = {
        "random.bin": os.urandom(5000), "empty.bin": b"", "zip-head.bin": b"PK\x03\x04" + b"\x00" * 100,
        "gif-head.gif": b"GIF89a" + b"\xff" * 20, "pdf-head.pdf": b"%PDF-1.4\n%%EOF\n",
        "gzip-head.gz": b"\x1f\x8b", "png-head.png": b"\x89PNG\r\n\x1a\n", "tar-head.tar": b"\x00" * 1024,
        "xz-head.xz": b"\xfd7zXZ\x00" + b"\x00" * 50, "bz2-head.bz2": b"BZh9" + b"\x00" * 50,
    }
    for name, data in samples.items():
        path = tmp_path / name
        path.write_bytes(data)
        look(inspector, path)
