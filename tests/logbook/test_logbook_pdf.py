"""The PDF: structure, text, images, page numbers, embedded fonts, and it renders to PNG."""

import re
import shutil
import subprocess

import pypdf
import pytest

from debugkit.logbook import Entry, Experiment, Figure, Logbook, Result, SummaryRow, Table, build_logbook, parse_logbook


def page_texts(pdf):
    return [p.extract_text() or "" for p in pypdf.PdfReader(str(pdf)).pages]


def squash(text: str) -> str:
    # zero-width spaces are the break opportunities added to very long words
    return re.sub(r"\s+", " ", text.replace("\u200b", ""))


def test_title_page_and_contents(example):
    lb = example["logbook"]
    pages = page_texts(example["pdf"])
    title = squash(pages[0])
    for needle in (lb.title, lb.author, "Numerics of Machine Learning", "2024-01-19", "SGD lr 1e-5", "DEBUGGING LOGBOOK"):
        assert needle in title
    assert "OBSERVATION" not in title.upper().replace("AN OBSERVATION", "")  # no entry on the title page
    assert not re.search(r"\b1 / \d+\b", title), "the title page carries no page number"
    toc = squash(pages[1])
    assert "Contents" in toc
    for n, e in enumerate(lb.entries, 1):
        assert re.search(rf"{n} {re.escape(e.title)} ?\.*", toc), e.title
    assert "Instruments used" in toc


def test_one_page_region_per_entry_with_all_sections(example):
    lb = example["logbook"]
    pages = [squash(t) for t in page_texts(example["pdf"])]
    starts = []
    for n, e in enumerate(lb.entries, 1):
        # the entry heading, after the contents page
        hits = [i for i, t in enumerate(pages) if i > 1 and f"{n} {e.title}" in t]
        assert hits, f"entry {n} not found"
        starts.append(hits[0])
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "each entry starts on its own page"
    ends = starts[1:] + [next(i for i, t in enumerate(pages) if "Instruments used" in t and i > starts[-1])]
    for (n, e), a, b in zip(enumerate(lb.entries, 1), starts, ends):
        region = " ".join(pages[a:b]).upper()
        for label in ("OBSERVATION", "HYPOTHESIS", "EXPERIMENT", "RESULT", "VERDICT"):
            assert label in region, (n, label)
        assert e.verdict.upper() in region
        others = [o.title.upper() for o in lb.entries if o is not e]
        assert not any(o in region for o in others)


def test_expected_numbers_tables_and_code(example):
    text = squash(" ".join(page_texts(example["pdf"])))
    for needle in (
        "0.87 ± 0.02",  # metrics and summary tables, as written
        "+0.76",
        "Val. acc.",
        "Table 1:",
        "Figure 3:",
        "torch.nn.init.normal_(p, mean=-0.1, std=0.01)",  # the code diff, verbatim
        "lr: 0.01",  # the config block
        "CONFIRMED",
        "REFUTED",
        "Local step size",  # appendix
        "Runs referenced",
    ):
        assert needle in text, needle


def test_images_are_embedded(example):
    reader = pypdf.PdfReader(str(example["pdf"]))
    n_images = sum(len(p.images) for p in reader.pages)
    assert n_images == 3 == len(list(example["logbook"].iter_figures()))


def test_page_numbers_on_every_page_but_the_title(example):
    pages = page_texts(example["pdf"])
    n = len(pages)
    assert n >= 6
    for k, text in enumerate(pages[1:], 2):
        assert re.search(rf"\b{k} / {n}\b", text), f"page {k} has no page number"


def test_fonts_are_embedded(example):
    reader = pypdf.PdfReader(str(example["pdf"]))
    seen = {}
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            desc = font.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in font:
                desc = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = desc.get_object()
            seen[str(font["/BaseFont"])] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert seen and all(seen.values()), seen
    assert any("NewCM" in name for name in seen)
    if shutil.which("pdffonts"):
        out = subprocess.run(["pdffonts", str(example["pdf"])], capture_output=True, text=True).stdout
        rows = out.splitlines()[2:]
        assert rows and all(" yes " in row for row in rows), out


def test_a_page_renders_to_png(example, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "3", "-l", "3", str(example["pdf"]), str(tmp_path / "p")], check=True,
                   capture_output=True)
    (png,) = tmp_path.glob("p-*.png")
    with Image.open(png) as im:
        assert im.size[1] > im.size[0] > 250  # A4 portrait
        grey = im.convert("L")
        dark = sum(1 for v in grey.tobytes() if v < 128)
    assert dark > 500, "the page is (nearly) blank"


NASTY = (
    "#set page(width: 1cm) #import \"x\": * *bold _it `tick $x^2 @ref <lbl> [a] ]] {b} \\ \\u{1F600} "
    "// /* */ ~ -- --- ... = + - 1. / term: x %% & \"q\" 'q' ```"
)


def test_nasty_characters_compile_and_print_literally(tmp_path, make_png):
    make_png(tmp_path / "a #b $c.png")
    lb = Logbook(
        title=f"T {NASTY}",
        author="A <a@b> #x",
        course="C $1$ @c",
        date="2024 #1",
        baseline="lr=1e-5 [buggy] *x*",
        summary=f"S {NASTY}\n\n- {NASTY}\n\n> {NASTY}\n\n### {NASTY}\n\n```\n{NASTY.replace('```', '')}\n```",
        summary_table=[SummaryRow(f"step {NASTY}", val_acc=0.5, delta=-0.1, verdict="refuted")],
        entries=[
            Entry(
                f"E {NASTY}",
                observation=f"O {NASTY}\n\n1. {NASTY}\n2. two",
                hypothesis=f"H {NASTY}",
                experiment=Experiment(f"X {NASTY}", config={f"k #{NASTY}": NASTY}, code_diff=f"-{NASTY[:-3]}\n+\"\\"),
                result=Result(f"R {NASTY}", Table([f"c {NASTY}", "v"], [[NASTY, "1 ± 2"]], caption=NASTY)),
                verdict="inconclusive",
                verdict_note=NASTY,
                figures=[Figure(f"F {NASTY}", path="a #b $c.png")],
            )
        ],
    )
    lb.base_dir = tmp_path
    assert parse_logbook(lb.to_markdown()) == lb
    (pdf,) = build_logbook(lb, tmp_path / "nasty.pdf")
    text = squash(" ".join(page_texts(pdf)))
    for needle in ("#set page(width: 1cm)", "$x^2", "@ref", "<lbl>", "\\u{1F600}", "// /* */", "*bold _it"):
        assert needle in text, needle
    assert sum(len(p.images) for p in pypdf.PdfReader(str(pdf)).pages) == 1


def test_every_ascii_character_prints(tmp_path):
    # texts are Markdown, so a literal backslash is written as two
    chars = "".join(chr(c) for c in range(33, 127)).replace("\\", "\\\\")
    lb = Logbook("ascii", entries=[Entry("all", observation=f"<<{chars}>>", verdict="confirmed")])
    (pdf,) = build_logbook(lb, tmp_path / "ascii.pdf")
    text = re.sub(r"\u00ad\n?|\u200b\n?|-\n", "", " ".join(page_texts(pdf)))  # undo line breaking
    for chunk in ("#$%&", "()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abc", "xyz{|}~>>"):
        assert chunk in text, chunk
