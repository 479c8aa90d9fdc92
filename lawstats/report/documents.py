"""A township report as plain text, whatever it came as: pasted text, .txt, .docx, .pdf (text layer) or a saved
web page (.html/.htm, the article body only).

Every reader returns a ``Document``: the text in reading order, one paragraph a line, and how it was read.
A file that cannot give text (an old binary Word/WPS file, a scanned PDF, an empty file) is refused with one
``LawstatsError`` that says what to do instead: save it as .docx, or paste the text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lawstats.errors import InvalidFile
from lawstats.reader import decode

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .doc / .wps / .xls
PDF_MAGIC = b"%PDF"
ZIP_MAGIC = b"PK\x03\x04"
HTML_EXTENSIONS = (".html", ".htm", ".shtml", ".xhtml")
OLD_WORD_EXTENSIONS = (".doc", ".wps", ".dot", ".wpt")
MIN_PDF_CHARACTERS = 20  # fewer non-space characters than this over the whole PDF: a scan without a text layer
MAX_REPORT_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Document:
    name: str  # the file name the analyst gave (or "粘贴的文本" for pasted text)
    text: str
    kind: str  # txt | docx | pdf | html | pasted
    encoding: str | None = None  # for .txt and .html: how the bytes were decoded


def from_text(text: str, name: str = "pasted") -> Document:
    """Pasted text: line ends normalised, nothing else changed."""
    text = _normalise_lines(text)
    if not text.strip():
        raise InvalidFile("report.empty", name=name)
    return Document(name, text, "pasted")


def read_path(path: Path | str, encoding: str | None = None) -> Document:
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name, encoding)


def read_bytes(data: bytes, name: str, encoding: str | None = None) -> Document:
    """Read a report file from its bytes; the type comes from the bytes first and the extension second (a .doc
    that is really a .docx is read as one; a .docx that is really an old binary file is refused)."""
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_REPORT_BYTES:
        raise InvalidFile("report.too_large", name=name, mb=MAX_REPORT_BYTES // 2**20)
    if not data.strip():
        raise InvalidFile("report.empty", name=name)
    if data.startswith(OLE2_MAGIC):
        raise InvalidFile("report.old_binary", name=name)
    if data.startswith(PDF_MAGIC):
        return _pdf(data, name)
    if data.startswith(ZIP_MAGIC):
        return _docx(data, name)
    if suffix in OLD_WORD_EXTENSIONS + (".docx", ".pdf"):
        # Not the bytes such a file has: a renamed or broken file.
        raise InvalidFile("report.not_readable", name=name)
    text, used = decode(data, encoding)
    if suffix in HTML_EXTENSIONS or _looks_like_html(text):
        return _checked(Document(name, html_body(text), "html", used))
    return _checked(Document(name, _normalise_lines(text), "txt", used))


def _checked(document: Document) -> Document:
    if not document.text.strip():
        raise InvalidFile("report.empty", name=document.name)
    return document


def _normalise_lines(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return text.lstrip("\ufeff")


# ---------------------------------------------------------------------------------------------------------
# .docx: paragraphs and tables in the order they stand in the document


def _docx(data: bytes, name: str) -> Document:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise InvalidFile("report.not_readable", name=name) from e
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            lines.extend(_table_lines(Table(block, document)))
    return _checked(Document(name, _normalise_lines("\n".join(lines)), "docx"))


def _table_lines(table) -> list[str]:
    """One line per row, cells separated by a tab; a merged cell (repeated by python-docx) is written once."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or cells[-1] != text:
                cells.append(text)
        lines.append("\t".join(cells))
    return lines


# ---------------------------------------------------------------------------------------------------------
# .pdf: the text layer, page by page


def _pdf(data: bytes, name: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise InvalidFile("report.not_readable", name=name) from e
    text = _normalise_lines("\n".join(pages))
    if len("".join(text.split())) < MIN_PDF_CHARACTERS:
        raise InvalidFile("report.scanned_pdf", name=name)
    return Document(name, text, "pdf")


# ---------------------------------------------------------------------------------------------------------
# saved web pages: the article body, not the navigation

# Where government CMSs put the article (TRS, Hanweb, the common templates); tried before the general rule.
BODY_SELECTORS = ("#zoom", "#Zoom", ".TRS_Editor", "#UCAP-CONTENT", ".trs_editor_view", "#fontzoom",
                  ".article-content", ".pages_content", ".view.TRS_UEDITOR", ".zw", "#zw", ".content_text",
                  "article")
NOISE_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "select",
              "button", "svg")
BLOCK_TAGS = ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "td", "section", "article",
              "table", "blockquote", "pre")
MIN_BODY_CHARACTERS = 20  # a known container with less text is an empty template block


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in head)


def html_body(html: str) -> str:
    """The article text of a saved page: its title (h1, else <title>) and the body block, one paragraph a line.

    The body is a known CMS container if the page has one; otherwise the block whose own paragraphs hold the
    most text (navigation is links and short items, so it loses to the article's paragraphs).
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for tag in NOISE_TAGS:
        for node in tree.css(tag):
            node.decompose()
    body = _known_body(tree) or _densest_block(tree)
    if body is None:
        return ""
    text = _block_text(body)
    title = _title(tree)
    if title and title not in text[:len(title) + 200]:
        text = title + "\n" + text
    return text


def _known_body(tree):
    for selector in BODY_SELECTORS:
        nodes = [n for n in tree.css(selector) if len(_plain(n)) >= MIN_BODY_CHARACTERS]
        if nodes:
            return max(nodes, key=lambda n: len(_plain(n)))
    return None


def _densest_block(tree):
    best, best_score = None, 0
    for node in tree.css("div, td, section, article, main, body"):
        score = sum(len(_plain(p)) for p in node.iter() if p.tag == "p") + len(_own_text(node))
        link = sum(len(_plain(a)) for a in node.css("a"))
        score -= link
        if score > best_score:
            best, best_score = node, score
    return best


def _own_text(node) -> str:
    return "".join((c.text_content or "") for c in node.iter(include_text=True) if c.tag == "-text").strip()


def _plain(node) -> str:
    return " ".join((node.text(separator=" ") or "").split())


def _title(tree) -> str:
    for selector in ("h1", "title"):
        node = tree.css_first(selector)
        if node is not None and _plain(node):
            return _plain(node)
    return ""


def _block_text(node) -> str:
    """Text with a line break at every block element, so paragraphs stay lines."""
    parts: list[str] = []
    _walk(node, parts)
    lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
    return "\n".join(line for line in lines if line)


def _walk(node, parts: list[str]) -> None:
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
            continue
        block = child.tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if child.tag in ("td", "th"):
            parts.append("\t")
        _walk(child, parts)
        if block:
            parts.append("\n")

