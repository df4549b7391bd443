"""Eighty-sixth batch of blind provokers: documents and rendering, each against files, mounts and servers made
here on 127.0.0.1 (blind86_support). PDF libraries and tools: pypdf and pdfminer.six on an encrypted file read
without (or with a wrong) password, a truncated file and a full output tmpfs; reportlab (a font file missing, a
face name misspelt); qpdf, pdfinfo/pdftotext (poppler-utils) and ghostscript on locked, damaged and missing
input, a bad page range, an unknown device, and an output over the file size limit. Office formats: python-docx
(a package without its content types, a save over the file size limit), openpyxl (a missing sheet, appending a
scalar, saving to a read-only or full mount), xlrd (CSV text under an .xlsx name), odfpy (an attribute its schema
does not allow). LaTeX (pdflatex and xelatex: an undefined control sequence, missing input files and the
emergency stop, a missing $, a runaway argument, a full or read-only output directory), Graphviz dot (a syntax
error, an unknown output format, a missing input), docutils rst2html (raw directive URLs that are refused, reset,
answer 503, 500 or 403, a missing include, a title mismatch), weasyprint fetching its document from servers that
refuse, reset, fail or demand credentials, and Python-Markdown and mistune extensions that do not exist."""

from __future__ import annotations

import io
import resource
from pathlib import Path
from typing import Any

from blind80_support import VENV_BIN, project, read_only_mount
from blind86_support import full_mount, office_files, pdf_files
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND86_SOURCES = frozenset({"pypdf86", "pdfminer86", "reportlab86", "qpdf86", "poppler86", "ghostscript86",
                             "python-docx86", "openpyxl86", "xlrd86", "odfpy86", "pdflatex86", "xelatex86",
                             "graphviz86", "docutils86", "weasyprint86", "markdown86", "mistune86"})

GS = "gs -q -dNOPAUSE -dBATCH -dSAFER"
LATEX = "cd @S@/tex && {0} -interaction=nonstopmode -halt-on-error"
RST = "cd @S@/rst && @VENV@/rst2html --halt=error {0} >/dev/null"

# --------------------------------------------------------------------------- sources


def _sources(root: Path, env: Env) -> None:
    project(root, "tex", {
        "invoice.tex": "\\documentclass{article}\n\\begin{document}\nTotal due: \\totalamount{} EUR\n"
                       "\\end{document}\n",
        "thesis.tex": "\\documentclass{book}\n\\begin{document}\n\\input{chapters/results86}\n\\end{document}\n",
        "memo.tex": "\\documentclass{article}\n\\begin{document}\nThe rate x_1 rose to 5 percent.\n"
                    "\\end{document}\n",
        "letter.tex": "\\documentclass{letter}\n\\begin{document}\n\\textbf{Dear customer,\n\n\\end{document}\n",
        "note.tex": "\\documentclass{article}\n\\begin{document}\nShipping note 86.\n\\end{document}\n",
    })
    project(root, "dot", {
        "deps.dot": "digraph deps {\n  api -> db\n  api -> cache [label=\"reads\"\n  worker -> db\n}\n",
        "flow.dot": "digraph flow {\n  start -> parse -> render -> done;\n}\n",
    })
    raw = "Release notes\n=============\n\n.. raw:: html\n   :url: {0}\n\nBody.\n"
    project(root, "rst", {
        "refused.rst": raw.format(f"http://127.0.0.1:{env.closed_port}/banner.html"),
        "reset.rst": raw.format(f"http://127.0.0.1:{env.reset_port}/banner.html"),
        "unavailable.rst": raw.format(env.url(503)),
        "failing.rst": raw.format(env.url(500)),
        "forbidden.rst": raw.format(env.url(403)),
        "include.rst": "Handbook\n========\n\n.. include:: parts/intro86.rst\n",
        "title.rst": "==========\nHandbook\n======\n\nText.\n",
    })


# --------------------------------------------------------------------------- tools


def _tools() -> list[tuple[str, list[ToolCase]]]:
    pdf = "cd @S@/pdf && "
    qpdf: list[ToolCase] = [
        ("qpdf_wrong_password", "auth", "invalid password", pdf + "qpdf --password=guess-86 locked.pdf @W@/out.pdf"),
        ("qpdf_damaged_input", "validation", "damaged", pdf + "qpdf --check statement.pdf"),
        ("qpdf_input_missing", "filesystem", "No such file", pdf + "qpdf invoices/2026-03.pdf @W@/out.pdf"),
        ("qpdf_file_size_limit", "resource", "File size limit exceeded",
         pdf + "ulimit -f 16; qpdf report.pdf @W@/report-copy.pdf; exit $?"),
        ("qpdf_page_range", "validation", "out of range", pdf + "qpdf --empty --pages plain.pdf 5-9 -- @W@/out.pdf"),
    ]
    poppler: list[ToolCase] = [
        ("pdfinfo_locked", "auth", "Incorrect password", pdf + "pdfinfo locked.pdf"),
        ("pdftotext_truncated", "validation", "Couldn't read xref table", pdf + "pdftotext truncated.pdf -"),
        ("pdftotext_input_missing", "filesystem", "No such file", pdf + "pdftotext scans/contract86.pdf -"),
    ]
    ghostscript: list[ToolCase] = [
        ("gs_locked_pdf", "auth", "requires a password",
         pdf + GS + " -dPDFSTOPONERROR -sDEVICE=txtwrite -sOutputFile=- locked.pdf 2>&1"),
        ("gs_input_missing", "filesystem", "undefinedfilename",
         pdf + GS + " -sDEVICE=txtwrite -sOutputFile=- archive/q3-86.pdf 2>&1"),
        ("gs_not_a_pdf", "validation", "syntaxerror",
         pdf + GS + " -sDEVICE=txtwrite -sOutputFile=- statement.pdf 2>&1"),
        ("gs_unknown_device", "validation", "Unknown device",
         pdf + GS + " -sDEVICE=pdfwrit -sOutputFile=@W@/o.pdf plain.pdf 2>&1"),
    ]
    pdflatex: list[ToolCase] = [
        ("pdflatex_undefined_control_sequence", "validation", "Undefined control sequence",
         LATEX.format("pdflatex") + " invoice.tex"),
        ("pdflatex_input_missing", "filesystem", "not found", LATEX.format("pdflatex") + " thesis.tex"),
        ("pdflatex_main_file_missing", "filesystem", "can't find file", LATEX.format("pdflatex") + " annual86.tex"),
        ("pdflatex_missing_dollar", "validation", "Missing $ inserted", LATEX.format("pdflatex") + " memo.tex"),
        ("pdflatex_output_full", "resource", "No space left|can't write",
         LATEX.format("pdflatex") + " -output-directory=@FULL@ note.tex"),
    ]
    xelatex: list[ToolCase] = [
        ("xelatex_runaway_argument", "validation", "Runaway argument|File ended",
         LATEX.format("xelatex") + " letter.tex"),
        ("xelatex_output_read_only", "filesystem", "can't write", LATEX.format("xelatex") + " -output-directory=@RO@ "
         "note.tex"),
    ]
    graphviz: list[ToolCase] = [
        ("dot_syntax_error", "validation", "syntax error", "cd @S@/dot && dot -Tsvg deps.dot -o @W@/deps.svg"),
        ("dot_unknown_format", "validation", "not recognized", "cd @S@/dot && dot -Tsvgz2 flow.dot -o @W@/flow.out"),
        ("dot_input_missing", "filesystem", "can't open", "cd @S@/dot && dot -Tpng graphs/net86.dot -o @W@/net.png"),
    ]
    docutils: list[ToolCase] = [
        ("rst_raw_url_refused", "network", "Connection refused", RST.format("refused.rst")),
        ("rst_raw_url_reset", "network", "reset", RST.format("reset.rst")),
        ("rst_raw_url_503", "service", "503", RST.format("unavailable.rst")),
        ("rst_raw_url_500", "service", "500", RST.format("failing.rst")),
        ("rst_raw_url_403", "auth", "403", RST.format("forbidden.rst")),
        ("rst_include_missing", "filesystem", "No such file", RST.format("include.rst")),
        ("rst_title_mismatch", "validation", "mismatch", RST.format("title.rst")),
    ]
    return [("qpdf86", qpdf), ("poppler86", poppler), ("ghostscript86", ghostscript), ("pdflatex86", pdflatex),
            ("xelatex86", xelatex), ("graphviz86", graphviz), ("docutils86", docutils)]


# --------------------------------------------------------------------------- Python libraries


def _python_cases(env: Env, pdf: Path, office: Path, ro: Path, full: Path) -> list[PyCase]:
    def pypdf_locked() -> None:
        from pypdf import PdfReader

        PdfReader(pdf / "locked.pdf").pages[0].extract_text()

    def pypdf_truncated() -> None:
        from pypdf import PdfReader

        PdfReader(pdf / "truncated.pdf", strict=True)

    def pypdf_full() -> None:
        from pypdf import PdfWriter

        writer = PdfWriter(clone_from=pdf / "report.pdf")
        writer.write(full / "report-merged.pdf")

    def pdfminer_wrong_password() -> None:
        from pdfminer.high_level import extract_text

        extract_text(pdf / "locked.pdf", password="guess-86")

    def reportlab_font_missing() -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont("Corporate", str(env.tmp / "fonts" / "Corporate86.ttf")))

    def reportlab_face_typo() -> None:
        from reportlab.pdfgen import canvas

        canvas.Canvas(io.BytesIO()).setFont("Helvetika-Bold", 12)

    def docx_no_content_types() -> None:
        import docx

        docx.Document(str(office / "broken.docx"))

    def docx_file_size_limit() -> None:
        import docx

        document = docx.Document()
        for i in range(3000):
            document.add_paragraph(f"Entry {i}: shipment reconciled against the warehouse ledger")
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, hard))
        try:
            document.save(str(env.tmp / "ledger86.docx"))
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    def openpyxl_missing_sheet() -> None:
        import openpyxl

        openpyxl.load_workbook(office / "book.xlsx")["Sales"]

    def openpyxl_append_scalar() -> None:
        import openpyxl

        sheet = openpyxl.Workbook().active
        sheet.append(42)

    def openpyxl_read_only() -> None:
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["region", "amount"])
        book.save(ro / "summary86.xlsx")

    def openpyxl_full() -> None:
        import openpyxl

        book = openpyxl.Workbook()
        for row in range(2000):
            book.active.append([f"SKU-{row:05d}", row * 3, "warehouse 86"])
        book.save(full / "inventory86.xlsx")

    def xlrd_csv_text() -> None:
        import xlrd

        xlrd.open_workbook(str(office / "export.xlsx"))

    def odfpy_attribute() -> None:
        from odf.text import P

        P(text="Total", colour="red")

    def weasy(url: str) -> Any:
        def fetch() -> None:
            from weasyprint import HTML

            HTML(url=url).write_pdf(env.tmp / "invoice86.pdf")

        return fetch

    def markdown_extension() -> None:
        import markdown

        markdown.markdown("| a | b |\n|---|---|\n| 1 | 2 |\n", extensions=["tables2"])

    def mistune_renderer() -> None:
        import mistune

        mistune.create_markdown(plugins=["tabels"])

    return [
        ("pypdf_locked_no_password", "auth", "pypdf86", "FileNotDecryptedError", pypdf_locked),
        ("pypdf_truncated_strict", "validation", "pypdf86", "PdfReadError", pypdf_truncated),
        ("pypdf_write_full_tmpfs", "resource", "pypdf86", "OSError", pypdf_full),
        ("pdfminer_wrong_password", "auth", "pdfminer86", "PDFPasswordIncorrect", pdfminer_wrong_password),
        ("reportlab_ttf_missing", "filesystem", "reportlab86", "TTFError", reportlab_font_missing),
        ("reportlab_face_typo", "programming", "reportlab86", "KeyError", reportlab_face_typo),
        ("docx_no_content_types", "validation", "python-docx86", "KeyError", docx_no_content_types),
        ("docx_file_size_limit", "resource", "python-docx86", "OSError", docx_file_size_limit),
        ("openpyxl_missing_sheet", "validation", "openpyxl86", "KeyError", openpyxl_missing_sheet),
        ("openpyxl_append_scalar", "programming", "openpyxl86", "TypeError", openpyxl_append_scalar),
        ("openpyxl_save_read_only", "filesystem", "openpyxl86", "OSError", openpyxl_read_only),
        ("openpyxl_save_full_tmpfs", "resource", "openpyxl86", "OSError", openpyxl_full),
        ("xlrd_csv_text", "validation", "xlrd86", "XLRDError", xlrd_csv_text),
        ("odfpy_attribute_not_allowed", "programming", "odfpy86", "AttributeError", odfpy_attribute),
        ("weasyprint_refused", "network", "weasyprint86", "URLFetchingError",
         weasy(f"http://127.0.0.1:{env.closed_port}/invoice.html")),
        ("weasyprint_reset", "network", "weasyprint86", "URLFetchingError",
         weasy(f"http://127.0.0.1:{env.reset_port}/invoice.html")),
        ("weasyprint_503", "service", "weasyprint86", "URLFetchingError", weasy(env.url(503))),
        ("weasyprint_401", "auth", "weasyprint86", "URLFetchingError", weasy(env.url(401))),
        ("markdown_extension_missing", "programming", "markdown86", "ImportError", markdown_extension),
        ("mistune_plugin_unknown", "programming", "mistune86", "ValueError|KeyError|AttributeError", mistune_renderer),
    ]


def blind86_records(env: Env) -> list[Record]:
    root = env.tmp / "s86"
    pdf = pdf_files(root)
    office = office_files(root)
    _sources(root, env)
    work = root / "work"
    work.mkdir()
    ro = read_only_mount(env, "ro86", {"README": "published documents\n"})
    full = full_mount(env, "full86")
    values: dict[str, Any] = {"@VENV@": VENV_BIN, "@S@": root, "@W@": work, "@RO@": ro, "@FULL@": full}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, str(value))
        return text

    out: list[Record] = []
    for source, cases in _tools():
        out += tool_records(cases, source, env.tmp, fill, timeout=120)
    out += python_records(_python_cases(env, pdf, office, ro, full))
    return out


if __name__ == "__main__":
    write_batch(blind86_records)


__all__ = ["BLIND86_SOURCES", "blind86_records"]
