"""The PDF test corpus, generated at test time (no binary is committed).

Every document is built from code with reportlab (text, vector drawings, embedded JPEG
photos made from numpy noise and gradients) and pypdfium2 (page rotation, a zero-page
document), seeded, so the same name gives the same pages (a document that pdfium rewrote
differs only in the second half of its trailer /ID). ``Corpus`` writes each document once, on first use,
into its folder (a session's temporary folder in the tests, see conftest.py) under a name
that carries a digest of its bytes, and hands out the path.

Sizes: "MB" in the pipeline's thresholds is the mebibyte, 10 MB = 10 * 1024 * 1024 =
10,485,760 bytes (``TEN_MIB``); ``exactly_10mib`` is that many bytes, ``over_10mib`` one more.

Pages are US letter (612 x 792 points) unless named otherwise, so 150 DPI gives 1275 x 1650
pixels. ``PAGE_KINDS`` cycles text, vector, photo through multi-page documents, and the
text of each page names its number (``page_label``), so a page can be told apart from
every other one by its extracted text as well as by its pixels.
"""
from __future__ import annotations

import hashlib
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pypdfium2 as pdfium
from PIL import Image
from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas as rl_canvas

TEN_MIB = 10 * 1024 * 1024
LETTER = letter                      # (612.0, 792.0) points
POSTER = (14_400.0, 14_400.0)        # 200 x 200 inches: the largest page PDF 1.x allows
PAGE_KINDS = ("text", "vector", "photo")
USER_PASSWORD = "open-sesame"

_WORDS = ("invoice total amount due payment account reference customer order quantity unit price "
          "tax net gross shipping address date number description balance credit debit period "
          "statement remittance terms discount subtotal currency approved received").split()


def page_label(number: int) -> str:
    """The first line of every generated page: its number, as extracted text shows it."""
    return f"Page {number:05d}"


# --- page painters ---------------------------------------------------------------------------

def _paint_text(canvas: rl_canvas.Canvas, number: int, rng: random.Random) -> None:
    width, height = canvas._pagesize
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(54, height - 60, page_label(number))
    canvas.setFont("Helvetica", 10)
    y = height - 90
    while y > 54:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14)))
        canvas.drawString(54, y, f"{words} {rng.randint(1, 99_999):>6}.{rng.randint(0, 99):02d}")
        y -= 13


def _paint_vector(canvas: rl_canvas.Canvas, number: int, rng: random.Random) -> None:
    width, height = canvas._pagesize
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(54, height - 60, page_label(number))
    canvas.saveState()   # a gradient band along the foot of the page, under the drawing
    band = canvas.beginPath()
    band.rect(54, 54, width - 108, 60)
    canvas.clipPath(band, stroke=0, fill=0)
    canvas.linearGradient(54, 54, width - 54, 114, ((1, 0, 0), (0, 0, 1)), extend=False)
    canvas.restoreState()
    canvas.setStrokeColorRGB(0.8, 0.8, 0.8)
    canvas.setLineWidth(0.25)
    for x in range(54, int(width) - 53, 18):   # a drawing grid
        canvas.line(x, 130, x, height - 80)
    for y in range(130, int(height) - 79, 18):
        canvas.line(54, y, width - 54, y)
    for _ in range(40):
        canvas.setStrokeColorRGB(rng.random(), rng.random(), rng.random())
        canvas.setFillColorRGB(rng.random(), rng.random(), rng.random(), alpha=0.6)
        canvas.setLineWidth(rng.uniform(0.3, 4))
        x, y = rng.uniform(54, width - 154), rng.uniform(54, height - 194)
        shape = rng.randrange(4)
        if shape == 0:
            canvas.rect(x, y, rng.uniform(10, 100), rng.uniform(10, 100), fill=1)
        elif shape == 1:
            canvas.circle(x + 50, y + 50, rng.uniform(5, 50), fill=1)
        elif shape == 2:
            canvas.bezier(x, y, x + rng.uniform(-80, 80), y + 120, x + 120, y - 40, x + 100, y + 100)
        else:
            path = canvas.beginPath()
            path.moveTo(x, y)
            for _ in range(5):
                path.lineTo(x + rng.uniform(0, 100), y + rng.uniform(0, 100))
            path.close()
            canvas.drawPath(path, fill=1)


def photo_image(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A photo-like RGB image: smooth gradients and soft blobs (computed at an eighth of the
    size and scaled up, as smooth as they are), hard-edged textured objects and sensor noise.
    JPEG-friendly like a camera picture or a scan, unlike pure noise."""
    width, height = size
    generator = np.random.default_rng(seed)
    small_height, small_width = max(height // 8, 1), max(width // 8, 1)
    y, x = np.mgrid[0:small_height, 0:small_width].astype(np.float32) * 8
    smooth = np.zeros((small_height, small_width, 3), np.float32)
    for channel in range(3):
        a, b = generator.uniform(-0.1, 0.1, 2)
        smooth[..., channel] = 128 + a * x + b * y
    for _ in range(12):
        cx, cy = generator.uniform(0, width), generator.uniform(0, height)
        radius = generator.uniform(30, 250)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius ** 2))
        smooth += blob[..., None] * generator.uniform(-90, 90, 3).astype(np.float32)
    scaled = Image.fromarray(np.clip(smooth, 0, 255).astype(np.uint8), "RGB").resize(size, Image.BILINEAR)
    image = np.asarray(scaled).astype(np.int16)
    stripes = (20 * np.sin(np.arange(width) / 3)).astype(np.int16)
    for _ in range(8):   # hard-edged objects: what makes a photo more than a gradient
        left, top = generator.integers(0, width - 60), generator.integers(0, height - 60)
        right, bottom = left + generator.integers(20, 300), top + generator.integers(20, 300)
        image[top:bottom, left:right] = generator.integers(0, 256, 3) + stripes[left:right, None]
    image += generator.integers(-10, 11, image.shape, dtype=np.int16)   # sensor noise
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


def jpeg_bytes(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _paint_photo(canvas: rl_canvas.Canvas, number: int, rng: random.Random) -> None:
    width, height = canvas._pagesize
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(54, height - 60, page_label(number))
    photo = ImageReader(io.BytesIO(jpeg_bytes(photo_image(rng.randrange(2 ** 32)))))
    canvas.drawImage(photo, 18, 180, width=width - 36, height=(width - 36) * 0.75)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(54, 150, f"Figure {number}: site photograph, reference {rng.randint(1, 10 ** 6)}")


FORM_VALUE = "FORM-VALUE-42"
FORM_FIELD_RECT = (72, 600, 300, 40)   # x, y, width, height in points (from the bottom left)


def _paint_form(canvas: rl_canvas.Canvas, number: int, rng: random.Random) -> None:
    """A filled-in AcroForm text field, drawn from its appearance stream and form data."""
    width, height = canvas._pagesize
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(54, height - 60, page_label(number))
    x, y, field_width, field_height = FORM_FIELD_RECT
    canvas.acroForm.textfield(name="reference", value=FORM_VALUE, x=x, y=y, width=field_width,
                              height=field_height, fontSize=20, borderWidth=0, fillColor=None)


PAINTERS: dict[str, Callable[[rl_canvas.Canvas, int, random.Random], None]] = {
    "text": _paint_text, "vector": _paint_vector, "photo": _paint_photo, "form": _paint_form,
}


# --- documents ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageSpec:
    kind: str = "text"
    size: tuple[float, float] = LETTER
    rotation: int = 0


def build_pdf(pages: list[PageSpec], *, seed: int = 0, encrypt: pdfencrypt.StandardEncryption | None = None,
              first_number: int = 1) -> bytes:
    """A document of the given pages; page i (from 1) says ``page_label(first_number + i - 1)``."""
    buffer = io.BytesIO()
    canvas = rl_canvas.Canvas(buffer, pagesize=LETTER, invariant=1, encrypt=encrypt)
    for offset, spec in enumerate(pages):
        canvas.setPageSize(spec.size)
        number = first_number + offset
        PAINTERS[spec.kind](canvas, number, random.Random(f"{seed}:{number}:{spec.kind}"))
        canvas.showPage()
    canvas.save()
    rotations = [spec.rotation for spec in pages]
    return with_rotations(buffer.getvalue(), rotations) if any(rotations) else buffer.getvalue()


def with_rotations(document: bytes, rotations: list[int]) -> bytes:
    """The same pages with /Rotate set: the content and MediaBox stay as drawn (reportlab's
    own page rotation swaps the MediaBox, which is not what a rotated scan looks like)."""
    pdf = pdfium.PdfDocument(document)
    for index, rotation in enumerate(rotations):
        pdf[index].set_rotation(rotation)
    return _saved(pdf)


def _saved(pdf: pdfium.PdfDocument) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def mixed_pages(count: int, kinds: tuple[str, ...] = PAGE_KINDS) -> list[PageSpec]:
    return [PageSpec(kind=kinds[i % len(kinds)]) for i in range(count)]


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty (a one-page document, its page deleted)."""
    pdf = pdfium.PdfDocument(build_pdf([PageSpec("text")]))
    pdf.del_page(0)
    return _saved(pdf)


def with_new_object(document: bytes, body: bytes, trailer_entries: bytes = b"", *, number: int | None = None) -> bytes:
    """``document`` with an incremental update (PDF 32000-1, 7.5.6) that adds one object,
    ``body``, numbered /Size (or replaces object ``number``), and a trailer that repeats
    /Root, /Info and /ID, points /Prev at the original cross-reference section and adds
    ``trailer_entries`` (``{number}`` in them is replaced by the object's number)."""
    prev = int(re.findall(rb"startxref\s+(\d+)", document)[-1])
    trailer = document[document.rindex(b"trailer"):]
    size = int(re.search(rb"/Size\s+(\d+)", trailer).group(1))
    number = size if number is None else number
    kept = b"".join(b" /%s %s" % (name, match.group(1)) for name, pattern in (
        (b"Root", rb"/Root\s+(\d+\s+\d+\s+R)"), (b"Info", rb"/Info\s+(\d+\s+\d+\s+R)"),
        (b"ID", rb"/ID\s*(\[[^\]]*\])")) if (match := re.search(pattern, trailer)))
    base = document if document.endswith(b"\n") else document + b"\n"
    obj = b"%d 0 obj\n%s\nendobj\n" % (number, body)
    extra = trailer_entries.replace(b"{number}", str(number).encode())
    return (base + obj + b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (number, len(base))
            + b"trailer\n<< /Size %d%s%s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (max(size, number + 1), kept, extra, prev, len(base) + len(obj)))


def padded_to(document: bytes, size: int) -> bytes:
    """``document`` grown to exactly ``size`` bytes by an incremental update that adds one
    unreferenced stream of random (incompressible) bytes: still a valid PDF, the same pages."""
    def update(length: int) -> bytes:
        data = np.random.default_rng(length).integers(0, 256, length, dtype=np.uint8).tobytes()
        return with_new_object(document, b"<< /Length %d >>\nstream\n%s\nendstream" % (length, data))

    length = max(size - len(document) - 256, 0)
    for _ in range(4):   # the digits of /Length and of the offsets settle in a step or two
        padded = update(length)
        if len(padded) == size:
            return padded
        length += size - len(padded)
    raise ValueError(f"cannot pad a {len(document)}-byte document to {size} bytes")


def missing_page() -> bytes:
    """Two pages in the page tree, the second an object that the file does not hold: the
    document loads and counts two pages, the second cannot be loaded or copied."""
    document = build_pdf(mixed_pages(1), seed=1)
    pages = int(re.search(rb"/Pages (\d+) 0 R", document).group(1))
    kid = re.search(rb"/Kids \[ (\d+ 0 R) \]", document).group(1)
    return with_new_object(document, b"<< /Type /Pages /Count 2 /Kids [ %s 999 0 R ] >>" % kid, number=pages)


def unsupported_encryption() -> bytes:
    """A document whose /Encrypt names a security handler that no reader has."""
    return with_new_object(build_pdf(mixed_pages(2), seed=2),
                           b"<< /Filter /ExampleDRM /V 4 /R 4 /Length 128 >>", b" /Encrypt {number} 0 R")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    photo_image(7, (320, 240)).save(buffer, "PNG")
    return buffer.getvalue()


def truncated(document: bytes, fraction: float = 0.6) -> bytes:
    """The first ``fraction`` of a document: what an interrupted copy leaves behind."""
    return document[: int(len(document) * fraction)]


def long_document(path: Path, pages: int, *, block: int = 50) -> Path:
    """A ``pages``-page document (text, vector, photo pages in turn; each page's objects its
    own, as in a scan of that many pages), written to ``path``: a block of distinct pages is
    built once and imported again and again, so a 5,000-page file takes seconds, not minutes."""
    source = pdfium.PdfDocument(build_pdf(mixed_pages(block), seed=pages))
    target = pdfium.PdfDocument.new()
    while len(target) < pages:
        take = min(block, pages - len(target))
        target.import_pages(source, list(range(take)))
    target.save(path)
    target.close()
    source.close()
    return path


# --- looking at pages (for comparing a page with its copy) ------------------------------------

def page_pixels(source: Path | bytes, index: int = 0, *, dpi: int = 50) -> np.ndarray:
    """Page ``index`` rendered by pdfium at ``dpi`` (RGB), independently of core.render."""
    pdf = pdfium.PdfDocument(source)
    try:
        return pdf[index].render(scale=dpi / 72, rev_byteorder=True).to_numpy().copy()
    finally:
        pdf.close()


def form_field_ink(png: bytes) -> float:
    """The share of dark pixels inside the form field of ``form_page`` in a PNG of that page
    rendered at 72 DPI (one pixel a point)."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    x, y, width, height = FORM_FIELD_RECT
    top = pixels.shape[0] - (y + height)
    return float((pixels[top:top + height, x:x + width] < 128).any(axis=2).mean())


def page_texts(source: Path | bytes) -> list[str]:
    """The extracted text of every page."""
    pdf = pdfium.PdfDocument(source)
    try:
        return [pdf[index].get_textpage().get_text_bounded() for index in range(len(pdf))]
    finally:
        pdf.close()


def page_count(source: Path | bytes) -> int:
    pdf = pdfium.PdfDocument(source)
    try:
        return len(pdf)
    finally:
        pdf.close()


def page_rotations(source: Path | bytes) -> list[int]:
    pdf = pdfium.PdfDocument(source)
    try:
        return [pdf[index].get_rotation() for index in range(len(pdf))]
    finally:
        pdf.close()


# --- the catalogue -----------------------------------------------------------------------------

def _encrypted(user_password: str) -> bytes:
    return build_pdf(mixed_pages(2), seed=11,
                     encrypt=pdfencrypt.StandardEncryption(user_password, ownerPassword="owner-secret", strength=128))


def _exactly(size: int) -> bytes:
    return padded_to(build_pdf(mixed_pages(10), seed=10), size)


DOCUMENTS: dict[str, Callable[[], bytes]] = {
    # one page of each kind
    "text_page": lambda: build_pdf([PageSpec("text")]),
    "vector_page": lambda: build_pdf([PageSpec("vector")]),
    "photo_page": lambda: build_pdf([PageSpec("photo")]),
    # page-count edges of the default thresholds (single page, small 2..10, large over 10)
    "pages_1": lambda: build_pdf(mixed_pages(1), seed=1),
    "pages_2": lambda: build_pdf(mixed_pages(2), seed=2),
    "pages_10": lambda: build_pdf(mixed_pages(10), seed=10),
    "pages_11": lambda: build_pdf(mixed_pages(11), seed=11),
    # size edges: exactly 10 MiB and one byte more (10 pages each)
    "exactly_10mib": lambda: _exactly(TEN_MIB),
    "over_10mib": lambda: _exactly(TEN_MIB + 1),
    # a page with a filled-in form field
    "form_page": lambda: build_pdf([PageSpec("form")]),
    # geometry
    "rotated_page": lambda: build_pdf([PageSpec("text", rotation=90)]),
    "rotated_pages": lambda: build_pdf([PageSpec("text", rotation=r) for r in (0, 90, 180, 270)], seed=4),
    "poster_page": lambda: build_pdf([PageSpec("vector", size=POSTER)]),
    # passwords: one that we cannot open, one that any reader opens (owner password only)
    "encrypted": lambda: _encrypted(USER_PASSWORD),
    "owner_password_only": lambda: _encrypted(""),
    "unsupported_encryption": unsupported_encryption,
    # broken or not a PDF at all
    "truncated": lambda: truncated(build_pdf(mixed_pages(10), seed=10)),
    "zero_bytes": lambda: b"",
    "png_renamed": png_bytes,
    "html_error_page": lambda: b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>\n",
    "header_only": lambda: b"%PDF-1.7\n",
    "missing_page": missing_page,
    "no_pages": zero_page_pdf,
    # the benchmark's mix: 20 text, 20 vector, 20 photo letter pages
    "benchmark_60": lambda: build_pdf([PageSpec(kind) for kind in PAGE_KINDS for _ in range(20)], seed=60),
}


class Corpus:
    """Documents of ``DOCUMENTS`` written once, on first use, into ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        if name not in self._paths:
            content = DOCUMENTS[name]()
            digest = hashlib.sha256(content).hexdigest()[:16]
            path = self.root / f"{name}-{digest}.pdf"
            if not path.exists():
                partial = path.with_suffix(".partial")
                partial.write_bytes(content)
                partial.replace(path)
            self._paths[name] = path
        return self._paths[name]

    def bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def long_document(self, pages: int) -> Path:
        key = f"long_{pages}"
        if key not in self._paths:
            self._paths[key] = long_document(self.root / f"{key}.pdf", pages)
        return self._paths[key]

    def names(self) -> Iterator[str]:
        return iter(DOCUMENTS)

