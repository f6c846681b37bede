"""The small Markdown subset of logbook texts, parsed once and written as Typst or HTML.

Supported: paragraphs, bullet and numbered lists (nested by indentation), fenced code
blocks, block quotes, pipe tables, ``### headings`` (printed as bold lines), ``**bold**``,
``*italic*`` / ``_italic_``, `` `code` ``, ``[links](https://...)`` and backslash escapes.
Everything else is text and is escaped, so no user text can inject Typst or HTML.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

# -- tree -------------------------------------------------------------------------------------


@dataclass
class Inline:
    """An inline node: ``text``, ``code``, ``strong``, ``em`` or ``link``."""

    kind: str
    text: str = ""
    children: list["Inline"] = field(default_factory=list)
    url: str = ""


@dataclass
class Block:
    """A block node: ``para``, ``heading``, ``list``, ``code``, ``quote``, ``table`` or ``hr``."""

    kind: str
    inlines: list[Inline] = field(default_factory=list)
    items: list[list["Block"]] = field(default_factory=list)  # list items / quote body (items[0])
    ordered: bool = False
    start: int = 1
    text: str = ""  # code
    lang: str = ""  # code
    header: list[list[Inline]] = field(default_factory=list)
    rows: list[list[list[Inline]]] = field(default_factory=list)
    aligns: list[str] = field(default_factory=list)


# -- inline parsing ---------------------------------------------------------------------------

_ESCAPABLE = r"""!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"""
_INLINE_PATTERNS = [
    ("escape", re.compile(rf"\\([{_ESCAPABLE}])")),
    ("code", re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)),
    ("link", re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)")),
    ("strong", re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S)),
    ("strong", re.compile(r"(?<![\w])__(?=\S)(.+?)(?<=\S)__(?![\w])", re.S)),
    ("em", re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*", re.S)),
    ("em", re.compile(r"(?<![\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w])", re.S)),
]


def parse_inline(text: str) -> list[Inline]:
    """Parse inline Markdown into a list of :class:`Inline` nodes (soft line breaks become spaces)."""
    text = text.replace("\n", " ")
    out: list[Inline] = []
    buf: list[str] = []
    pos = 0
    while pos < len(text):
        best = None
        for kind, pat in _INLINE_PATTERNS:
            m = pat.search(text, pos)
            if m and (best is None or m.start() < best[1].start()):
                best = (kind, m)
        if best is None:
            buf.append(text[pos:])
            break
        kind, m = best
        buf.append(text[pos : m.start()])
        if kind == "escape":
            buf.append(m.group(1))
        else:
            if buf:
                out.append(Inline("text", "".join(buf)))
                buf = []
            if kind == "code":
                code = m.group(2)
                if code.startswith(" ") and code.endswith(" ") and code.strip():
                    code = code[1:-1]
                out.append(Inline("code", code))
            elif kind == "link":
                out.append(Inline("link", children=parse_inline(m.group(1)), url=m.group(2)))
            else:
                out.append(Inline(kind, children=parse_inline(m.group(1))))
        pos = m.end()
    if buf and "".join(buf):
        out.append(Inline("text", "".join(buf)))
    # merge neighbouring text nodes
    merged: list[Inline] = []
    for node in out:
        if node.kind == "text" and merged and merged[-1].kind == "text":
            merged[-1].text += node.text
        elif node.kind != "text" or node.text:
            merged.append(node)
    return merged


def plain_text(nodes: list[Inline]) -> str:
    """The text of inline nodes without any formatting (for PDF bookmarks, alt texts)."""
    return "".join(n.text if n.kind in ("text", "code") else plain_text(n.children) for n in nodes)


# -- block parsing ----------------------------------------------------------------------------

_FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)?.*$")
_ITEM_RE = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])(\s+|$)")
_TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_HR_RE = re.compile(r"^ {0,3}((\*\s*){3,}|(-\s*){3,}|(_\s*){3,})$")


def split_table_row(line: str) -> list[str]:
    """Cells of a pipe-table line; ``\\|`` is a literal bar inside a cell."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells, cur, i = [], [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "|":
            cur.append("|")
            i += 2
            continue
        if c == "|":
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    cells.append("".join(cur).strip())
    return cells


def is_table_start(lines: list[str], i: int) -> bool:
    return (
        i + 1 < len(lines)
        and lines[i].lstrip().startswith("|")
        and bool(_TABLE_SEP_RE.match(lines[i + 1]))
        and "-" in lines[i + 1]
    )


def _starts_block(lines: list[str], i: int) -> bool:
    line = lines[i]
    return bool(
        _FENCE_RE.match(line)
        or _HEADING_RE.match(line)
        or line.lstrip().startswith(">")
        or _HR_RE.match(line)
        or (_ITEM_RE.match(line) and line[_ITEM_RE.match(line).end() :].strip())
        or is_table_start(lines, i)
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parse_blocks(text: str) -> list[Block]:
    """Parse Markdown text into a list of :class:`Block` nodes."""
    lines = text.replace("\t", "    ").split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = _FENCE_RE.match(line)
        if fence:
            marker, lang = fence.group(2), (fence.group(3) or "")
            body = []
            i += 1
            while i < len(lines) and not (
                lines[i].strip().startswith(marker[0] * len(marker)) and not lines[i].strip().strip(marker[0])
            ):
                body.append(lines[i])
                i += 1
            i += 1  # closing fence (or end of text)
            blocks.append(Block("code", text="\n".join(body), lang=re.sub(r"[^\w+-]", "", lang)))
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            blocks.append(Block("heading", inlines=parse_inline(heading.group(2))))
            i += 1
            continue
        if _HR_RE.match(line):
            blocks.append(Block("hr"))
            i += 1
            continue
        if line.lstrip().startswith(">"):
            body = []
            while i < len(lines) and lines[i].lstrip().startswith(">"):
                body.append(re.sub(r"^\s*> ?", "", lines[i]))
                i += 1
            blocks.append(Block("quote", items=[parse_blocks("\n".join(body))]))
            continue
        if is_table_start(lines, i):
            header = split_table_row(lines[i])
            aligns = []
            for spec in split_table_row(lines[i + 1]):
                spec = spec.strip()
                aligns.append(
                    "center" if spec.startswith(":") and spec.endswith(":") else "right" if spec.endswith(":") else "left"
                )
            i += 2
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = split_table_row(lines[i])
                cells = (cells + [""] * len(header))[: len(header)]
                rows.append([parse_inline(c) for c in cells])
                i += 1
            aligns = (aligns + ["left"] * len(header))[: len(header)]
            blocks.append(Block("table", header=[parse_inline(h) for h in header], rows=rows, aligns=aligns))
            continue
        item = _ITEM_RE.match(line)
        if item and line[item.end() :].strip():
            ordered = item.group(2)[0].isdigit()
            start = int(item.group(2)[:-1]) if ordered else 1
            items: list[list[str]] = []
            while i < len(lines):
                m = _ITEM_RE.match(lines[i])
                if m and lines[i][m.end() :].strip() and m.group(2)[0].isdigit() == ordered:
                    content_indent = m.end()
                    cur = [lines[i][m.end() :]]
                    i += 1
                    while i < len(lines):
                        nxt = lines[i]
                        if not nxt.strip():
                            # a blank line continues the item only if indented text follows
                            j = i + 1
                            while j < len(lines) and not lines[j].strip():
                                j += 1
                            if j < len(lines) and _indent(lines[j]) >= 2:
                                cur += [""] * (j - i)
                                i = j
                                continue
                            break
                        if _indent(nxt) >= 2:
                            cur.append(nxt[min(content_indent, _indent(nxt)) :])
                        elif _ITEM_RE.match(nxt) or _starts_block(lines, i):
                            break
                        else:  # lazy continuation of the item's paragraph
                            cur.append(nxt)
                        i += 1
                    items.append(cur)
                    # a blank line between items keeps the list going
                    j = i
                    while j < len(lines) and not lines[j].strip():
                        j += 1
                    nm = _ITEM_RE.match(lines[j]) if j < len(lines) else None
                    if nm and lines[j][nm.end() :].strip() and nm.group(2)[0].isdigit() == ordered and j > i:
                        i = j
                else:
                    break
            blocks.append(Block("list", items=[parse_blocks("\n".join(it)) for it in items], ordered=ordered, start=start))
            continue
        # paragraph
        body = [line.strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and not _starts_block(lines, i):
            body.append(lines[i].strip())
            i += 1
        blocks.append(Block("para", inlines=parse_inline("\n".join(body))))
    return blocks


# -- Typst ------------------------------------------------------------------------------------

# Characters with a meaning in Typst markup. Quotes stay unescaped so Typst sets them as
# typographic quotes; every other ASCII mark that can start syntax is escaped.
_TYPST_SPECIAL = set("\\#*_`$@<>[]~=-+/.")


def _drop_control(text: str) -> str:
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn"))


_ZWSP = "\u200b"
_LONG_TOKEN_RE = re.compile(r"\S{31,}")


def _breakable(token: str) -> str:
    """Let a long word (a path, a URL) break: after ``/ _ . - = & ?`` and every 24 characters."""
    out, run = [], 0
    for c in token:
        out.append(c)
        run += 1
        if c in "/_.-=&?,:;" or run >= 24:
            out.append(_ZWSP)
            run = 0
    return "".join(out).rstrip(_ZWSP)


def typst_escape(text: str) -> str:
    """Escape text for Typst markup so it is printed literally (long words may break)."""
    text = _drop_control(text).replace("\t", " ").replace("\n", " ")
    text = _LONG_TOKEN_RE.sub(lambda m: _breakable(m.group(0)), text)
    return "".join("\\" + c if c in _TYPST_SPECIAL else c for c in text)


def breakable_code(text: str) -> str:
    """Code with break opportunities in very long tokens, so that it cannot run off the page."""
    return _LONG_TOKEN_RE.sub(lambda m: _breakable(m.group(0)), text)


def typst_string(text: str) -> str:
    """A Typst string literal holding ``text`` exactly."""
    text = _drop_control(text)
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


def inlines_to_typst(nodes: list[Inline]) -> str:
    out = []
    for n in nodes:
        if n.kind == "text":
            out.append(typst_escape(n.text))
        elif n.kind == "code":
            # the trailing ';' ends the call, so following user text can never extend it
            out.append(f"#raw({typst_string(breakable_code(n.text))});")
        elif n.kind == "strong":
            out.append(f"#strong[{inlines_to_typst(n.children)}];")
        elif n.kind == "em":
            out.append(f"#emph[{inlines_to_typst(n.children)}];")
        elif n.kind == "link":
            out.append(f"#link({typst_string(n.url)})[{inlines_to_typst(n.children)}];")
    return "".join(out)


def _typst_array(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def blocks_to_typst(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "para":
            out.append(inlines_to_typst(b.inlines))
        elif b.kind == "heading":
            out.append(f"#md-heading[{inlines_to_typst(b.inlines)}]")
        elif b.kind == "hr":
            out.append("#line(length: 100%, stroke: 0.4pt + luma(180))")
        elif b.kind == "code":
            lang = f"lang: {typst_string(b.lang)}, " if b.lang else ""
            out.append(f"#code-block(raw(block: true, {lang}{typst_string(breakable_code(b.text))}))")
        elif b.kind == "quote":
            out.append(f"#quote(block: true)[{blocks_to_typst(b.items[0])}]")
        elif b.kind == "list":
            items = [f"[{blocks_to_typst(it)}]" for it in b.items]
            fn = f"enum.with(start: {b.start})" if b.ordered else "list"
            out.append(f"#{fn}({', '.join(items)})")
        elif b.kind == "table":
            header = _typst_array([f"[{inlines_to_typst(h)}]" for h in b.header])
            rows = _typst_array([_typst_array([f"[{inlines_to_typst(c)}]" for c in r]) for r in b.rows])
            aligns = _typst_array(b.aligns)
            out.append(f"#booktab({header}, {rows}, aligns: {aligns})")
    return "\n\n".join(out)


def markdown_to_typst(text: str) -> str:
    """Markdown text → Typst markup (content, without surrounding brackets)."""
    return blocks_to_typst(parse_blocks(text))


def inline_to_typst(text: str) -> str:
    """One line of inline Markdown (a caption, a title) → Typst markup."""
    return inlines_to_typst(parse_inline(text))


# -- HTML -------------------------------------------------------------------------------------


def inlines_to_html(nodes: list[Inline]) -> str:
    out = []
    for n in nodes:
        if n.kind == "text":
            out.append(html.escape(_drop_control(n.text)))
        elif n.kind == "code":
            out.append(f"<code>{html.escape(_drop_control(n.text))}</code>")
        elif n.kind == "strong":
            out.append(f"<strong>{inlines_to_html(n.children)}</strong>")
        elif n.kind == "em":
            out.append(f"<em>{inlines_to_html(n.children)}</em>")
        elif n.kind == "link":
            out.append(f'<a href="{html.escape(n.url, quote=True)}">{inlines_to_html(n.children)}</a>')
    return "".join(out)


def blocks_to_html(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "para":
            out.append(f"<p>{inlines_to_html(b.inlines)}</p>")
        elif b.kind == "heading":
            out.append(f'<p class="md-heading"><strong>{inlines_to_html(b.inlines)}</strong></p>')
        elif b.kind == "hr":
            out.append("<hr>")
        elif b.kind == "code":
            cls = f' class="language-{html.escape(b.lang)}"' if b.lang else ""
            out.append(f"<pre><code{cls}>{html.escape(_drop_control(b.text))}</code></pre>")
        elif b.kind == "quote":
            out.append(f"<blockquote>{blocks_to_html(b.items[0])}</blockquote>")
        elif b.kind == "list":
            tag = "ol" if b.ordered else "ul"
            start = f' start="{b.start}"' if b.ordered and b.start != 1 else ""
            items = "".join(f"<li>{_tight(blocks_to_html(it))}</li>" for it in b.items)
            out.append(f"<{tag}{start}>{items}</{tag}>")
        elif b.kind == "table":
            head = "".join(
                f'<th style="text-align:{a}">{inlines_to_html(h)}</th>' for h, a in zip(b.header, b.aligns)
            )
            body = "".join(
                "<tr>" + "".join(f'<td style="text-align:{a}">{inlines_to_html(c)}</td>' for c, a in zip(r, b.aligns)) + "</tr>"
                for r in b.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(out)


def _tight(html_text: str) -> str:
    # a list item that is a single paragraph is shown without paragraph spacing
    if html_text.startswith("<p>") and html_text.endswith("</p>") and html_text.count("<p>") == 1:
        return html_text[3:-4]
    return html_text


def markdown_to_html(text: str) -> str:
    """Markdown text → HTML fragment (all text escaped)."""
    return blocks_to_html(parse_blocks(text))


def inline_to_html(text: str) -> str:
    """One line of inline Markdown → HTML fragment."""
    return inlines_to_html(parse_inline(text))
