"""Reading a township report from what an analyst has: pasted text, .txt in any of the usual encodings, .docx,
.pdf with a text layer, a saved government web page; and one clear sentence for what cannot be read.

Every document here is made by the test (python-docx for .docx, a PDF written by hand with a ToUnicode map so its
text layer is real). The report sentences are written for these tests."""

from __future__ import annotations

import io
import zlib

import pytest

from lawstats.errors import InvalidFile
from lawstats.report.documents import from_text, read_bytes

REPORT = ("青石镇2024年度法治政府建设工作情况报告\n"
          "一、基本情况\n"
          "全镇辖十九个行政村，开展法治宣传活动32场次，发放宣传资料4万余份。\n")


# ---------------------------------------------------------------------------------------------------------
# text files: the same deterministic decoding as the CSV reader


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-16", "utf-16")])
def test_text_in_every_usual_encoding_reads_the_same(encoding, expected):
    document = read_bytes(REPORT.encode(encoding), "报告.txt")
    assert document.text == REPORT
    assert document.kind == "txt"
    assert document.encoding == expected


def test_windows_line_ends_become_lines():
    document = read_bytes(REPORT.replace("\n", "\r\n").encode("gbk"), "报告.txt")
    assert document.text == REPORT


def test_pasted_text_is_kept_as_it_is():
    assert from_text(REPORT).text == REPORT
    assert from_text(REPORT).kind == "pasted"


# ---------------------------------------------------------------------------------------------------------
# .docx: paragraphs and tables in document order


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("青石镇2024年度法治政府建设工作情况报告")
    document.add_paragraph("一、基本情况")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "行政村"
    table.cell(0, 1).text = "19个"
    table.cell(1, 0).text = "宣传活动"
    table.cell(1, 1).text = "32场次"
    document.add_paragraph("二、主要举措和成效")
    document.add_paragraph("组织集中学法4次，参考率、及格率均达100%。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_and_tables_in_document_order():
    document = read_bytes(_docx_bytes(), "报告.docx")
    lines = document.text.split("\n")
    assert document.kind == "docx"
    assert lines == ["青石镇2024年度法治政府建设工作情况报告", "一、基本情况", "行政村\t19个", "宣传活动\t32场次",
                     "二、主要举措和成效", "组织集中学法4次，参考率、及格率均达100%。"]


def test_a_docx_saved_with_the_doc_extension_is_still_read():
    assert read_bytes(_docx_bytes(), "报告.doc").kind == "docx"


# ---------------------------------------------------------------------------------------------------------
# .pdf: the text layer


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF whose text is drawn with a CID font (Identity-H: each character's code is its Unicode
    code point) and a ToUnicode map, as Word and WPS export Chinese text; no font file is needed to read it."""
    content = ["BT", "/F1 12 Tf", "14 TL", "40 800 Td"]
    for line in lines:
        content.append("<" + "".join(f"{ord(c):04X}" for c in line) + "> Tj T*")
    content.append("ET")
    stream = "\n".join(content).encode("ascii")
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
            b"/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0000> <FFFF> <0000> endbfrange "
            b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        _stream(stream),
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        _stream(cmap),
    ])


def scanned_pdf_bytes() -> bytes:
    """A page with a picture-like drawing and no text at all, as a scanner produces."""
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"0.5 g 40 40 500 700 re f"),
    ])


def _stream(data: bytes) -> bytes:
    packed = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_text_layer_is_read():
    lines = ["青石镇2024年度法治政府建设工作情况报告", "全镇辖十九个行政村，发放宣传资料4万余份。"]
    document = read_bytes(pdf_bytes(lines), "报告.pdf")
    assert document.kind == "pdf"
    assert [line.strip() for line in document.text.split("\n") if line.strip()] == lines


def test_scanned_pdf_says_to_upload_docx_or_paste():
    with pytest.raises(InvalidFile) as e:
        read_bytes(scanned_pdf_bytes(), "扫描件.pdf")
    assert e.value.key == "report.scanned_pdf"
    assert "扫描件.pdf" in e.value.message("zh") and "粘贴" in e.value.message("zh")
    assert "paste the report's text" in e.value.message("en")


# ---------------------------------------------------------------------------------------------------------
# saved web pages: the article, not the navigation


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>青石镇2024年度法治政府建设工作情况报告_青石镇人民政府</title>
<script>var tracker = "政府网站统计 2024";</script><style>.nav{color:red}</style></head>
<body><div class="top"><a href="/">首页</a> <a href="/a">政务公开</a> <a href="/b">办事服务</a> <a href="/c">互动交流</a>
<a href="/d">走进青石</a> <a href="/e">12345热线</a></div>
<div class="crumb"><a href="/">首页</a> &gt; <a href="/a">政务公开</a> &gt; 法治政府建设</div>
<div class="main"><div class="list"><ul><li><a href="/n1">青石镇召开2025年第一季度工作会议</a></li>
<li><a href="/n2">青石镇开展防汛应急演练</a></li><li><a href="/n3">关于公布2025年部门预算的通知</a></li></ul></div>
<div class="article"><h1>青石镇2024年度法治政府建设工作情况报告</h1>
<p>2024年，青石镇围绕年度工作要点推进法治政府建设，现将有关情况报告如下：</p>
<p>一、基本情况</p><p>全镇辖十九个行政村，开展法治宣传活动32场次，发放宣传资料4万余份。</p>
<p>组织集中学法4次，参考率、及格率均达100%。</p></div></div>
<div class="footer">版权所有：青石镇人民政府 地址：青石镇政府路1号 电话：0851-1234567 网站标识码5200000001</div>
</body></html>"""


def test_saved_web_page_gives_the_article_body_only():
    document = read_bytes(PAGE.encode("utf-8"), "报告.html")
    text = document.text
    assert document.kind == "html"
    assert text.startswith("青石镇2024年度法治政府建设工作情况报告\n")
    assert "全镇辖十九个行政村，开展法治宣传活动32场次，发放宣传资料4万余份。" in text.split("\n")
    assert "参考率、及格率均达100%" in text
    for navigation in ("首页", "办事服务", "防汛应急演练", "版权所有", "0851-1234567", "tracker"):
        assert navigation not in text


def test_a_government_cms_body_container_is_preferred():
    page = ("<html><body><div id='nav'><p>首页</p><p>政务公开</p><p>信息公开指南：本网站提供依申请公开服务，欢迎"
            "通过网站、信函等方式提出申请，我们将在规定期限内答复，并公开答复情况，接受社会各界监督。</p></div>"
            "<div class='TRS_Editor'><p>全镇辖十九个行政村，开展法治宣传活动32场次。</p></div></body></html>")
    text = read_bytes(page.encode("gbk"), "page.htm").text
    assert text == "全镇辖十九个行政村，开展法治宣传活动32场次。"


# ---------------------------------------------------------------------------------------------------------
# what cannot be read: one sentence saying what to do


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize("name", ["报告.doc", "报告.wps", "报告.docx"])
def test_old_binary_word_or_wps_file_says_save_as_docx(name):
    with pytest.raises(InvalidFile) as e:
        read_bytes(OLE2, name)
    assert e.value.key == "report.old_binary"
    zh, en = e.value.message("zh"), e.value.message("en")
    assert name in zh and ".docx" in zh and "粘贴" in zh
    assert "Save it as .docx" in en and "paste" in en


@pytest.mark.parametrize("data", [b"", b"   \r\n\t ", "\ufeff".encode("utf-8")])
def test_empty_file_says_it_holds_no_text(data):
    with pytest.raises(InvalidFile) as e:
        read_bytes(data, "空白.txt")
    assert e.value.key == "report.empty"
    assert "空白.txt" in e.value.message("zh")


def test_empty_pasted_text_is_refused():
    with pytest.raises(InvalidFile) as e:
        from_text("  \n ")
    assert e.value.key == "report.empty"


def test_a_docx_that_is_not_one_is_refused_clearly():
    with pytest.raises(InvalidFile) as e:
        read_bytes(b"PK\x03\x04 this is not a word document", "报告.docx")
    assert e.value.key == "report.not_readable"
    with pytest.raises(InvalidFile) as e:
        read_bytes("纯文本，改了扩展名".encode("utf-8"), "报告.pdf")
    assert e.value.key == "report.not_readable"


def test_a_web_page_without_text_is_empty():
    with pytest.raises(InvalidFile) as e:
        read_bytes(b"<html><body><script>var a = 1;</script></body></html>", "page.html")
    assert e.value.key == "report.empty"
