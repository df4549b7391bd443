"""Helpers for batch 86 (documents and rendering): the input documents the cases read (PDFs made with pypdf, one
of them encrypted with a user password, a truncated one and an HTML error page saved under a .pdf name; Office
files that are not what their name says; LaTeX, Graphviz and reStructuredText sources), and a tmpfs filled to
the last byte so that every tool writing its output there runs out of space."""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

from blind80_support import project
from common import Env
from servers import mount_tmpfs

USER_PASSWORD = "statement-86"


def pdf_files(root: Path) -> Path:
    """`root/pdf`: plain.pdf (3 pages), locked.pdf (user password), report.pdf (many pages of text, for the full
    mount), truncated.pdf (its first 300 bytes) and statement.pdf (an HTML error page under a .pdf name)."""
    from pypdf import PdfWriter
    from reportlab.pdfgen import canvas

    base = project(root, "pdf", {"statement.pdf": "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                                 "<body><h1>Not Found</h1></body></html>\n"})
    plain = PdfWriter()
    for _ in range(3):
        plain.add_blank_page(595, 842)
    plain.write(base / "plain.pdf")
    locked = PdfWriter(clone_from=base / "plain.pdf")
    locked.encrypt(user_password=USER_PASSWORD, owner_password="owner-86", algorithm="AES-256")
    locked.write(base / "locked.pdf")
    (base / "truncated.pdf").write_bytes((base / "plain.pdf").read_bytes()[:300])
    report = canvas.Canvas(str(base / "report.pdf"), pageCompression=0)
    for page in range(40):
        for line in range(60):
            report.drawString(40, 800 - 12 * line, f"page {page} line {line}: quarterly ledger entry {page * line}")
        report.showPage()
    report.save()
    return base


def office_files(root: Path) -> Path:
    """`root/office`: book.xlsx (one sheet, Q1), export.xlsx (CSV text under an .xlsx name), broken.docx (a zip
    without [Content_Types].xml)."""
    import openpyxl

    base = project(root, "office", {"export.xlsx": "id,name,amount\n1,widget,12.50\n2,gadget,7.25\n"})
    book = openpyxl.Workbook()
    book.active.title = "Q1"
    book.active.append(["region", "amount"])
    book.save(base / "book.xlsx")
    with zipfile.ZipFile(base / "broken.docx", "w") as archive:
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="urn:w"/>')
    return base


def full_mount(env: Env, name: str) -> Path:
    """A 256 kB tmpfs filled with one file until ENOSPC: no byte is left for anything written there."""
    target = mount_tmpfs(env, name, "size=256k")
    with contextlib.suppress(OSError), (target / ".filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 4096)
            filler.flush()
    return target


__all__ = ["USER_PASSWORD", "full_mount", "office_files", "pdf_files"]
