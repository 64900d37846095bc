"""PDF pipeline: page conversion throughput on one core, PNG size, splitting speed and memory, Lambda cost.

On a generated corpus (tests/pdf_pipeline/corpus.py) of 60 US-letter pages, 20 text, 20
vector drawings and 20 embedded photos, at 150 DPI, pinned to one CPU and timed in CPU
seconds (the best of 5 runs, taking turns), so that other load on a shared machine does
not skew the ratios, it prints side by side:

- ``pdftoppm -png`` pages/s (poppler-utils; installed with apt-get when missing and running as root);
- render only, pdfium into a reused RGB buffer: from the one-page PDFs that convert_page
  gets (open, load, render: the ceiling of any conversion of those inputs), and from the
  pages of the 60-page document (fonts and images parsed once for all pages);
- the pipeline: core.render.render_page on each one-page PDF (open, render, encode PNG), as
  convert_page runs it, and its ratio to both (target: at least 50 % of the ceiling);
- Pillow's PNG at compress_level=1 after the same render, for reference;
- PNG bytes per page, the pipeline's against Pillow's default (level 6, adaptive filters),
  per page kind (target: at most 1.5x);
- split pages/s (single pages from the 60-page document; 10-page chunks of a 1,000-page one);
- peak memory (VmHWM of a child process) splitting a 1,000-page and a 5,000-page document
  into 10-page chunks, against a child that only opens the document;
- the Lambda cost per million pages at the configured memory size on arm64.

Run:  python benchmarks/pdf_conversion.py [--memory-mb 1769] [--batch-size 10]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402 - after the repository is on the path
from PIL import Image  # noqa: E402

from lambda_src.pdf_pipeline.core.pdf import open_pdf  # noqa: E402
from lambda_src.pdf_pipeline.core.png import Scratch  # noqa: E402
from lambda_src.pdf_pipeline.core.render import pixel_size, render_into, render_page, render_pixels  # noqa: E402
from lambda_src.pdf_pipeline.core.split import split_into_pages  # noqa: E402
from tests.pdf_pipeline.corpus import PAGE_KINDS, Corpus  # noqa: E402

DPI = 150
MAX_PIXELS = 40_000_000
# AWS Lambda, Arm, US East (N. Virginia), first pricing tier (aws.amazon.com/lambda/pricing)
ARM_PRICE_PER_GB_SECOND = 0.0000133334
PRICE_PER_MILLION_REQUESTS = 0.20
ONE_VCPU_MB = 1769   # Lambda gives a function one full vCPU at 1,769 MB; CPU share scales with memory
REPEATS = 5


def configured_memory_mb() -> int:
    """convert_page's memory size from cdk.json (pdfPipeline.convertPageMemoryMiB), else one vCPU."""
    context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    return int(context.get("pdfPipeline", {}).get("convertPageMemoryMiB", ONE_VCPU_MB))


def pin_to_one_core() -> int:
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def best_seconds(work: Callable[[], object], repeats: int = REPEATS) -> float:
    return interleaved_best({"work": work}, repeats)["work"]


def interleaved_best(works: dict[str, Callable[[], object]], repeats: int = REPEATS) -> dict[str, float]:
    """The least CPU time of ``repeats`` runs of each, taking turns. CPU time, not wall time:
    the work is single-threaded, and other processes on the machine (a shared CI or
    developer box) then cost it nothing but cache."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(repeats):
        for name, work in works.items():
            started = time.process_time()
            work()
            best[name] = min(best[name], time.process_time() - started)
    return best


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ensure_pdftoppm() -> str | None:
    """pdftoppm's path, installing poppler-utils when it is missing and we may; else None."""
    if shutil.which("pdftoppm"):
        return shutil.which("pdftoppm")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
             "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    install = ["apt-get", "install", "-y", "-q", "poppler-utils"]
    if subprocess.run(install, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], **quiet)
        subprocess.run(install, **quiet)
    return shutil.which("pdftoppm")


def pdftoppm_seconds(pdftoppm: str, document: Path, work: Path) -> float:
    """CPU seconds of one ``pdftoppm -png`` run over the document (single-threaded)."""
    out = Path(tempfile.mkdtemp(dir=work))
    before = children_cpu_seconds()
    subprocess.run([pdftoppm, "-png", "-r", str(DPI), str(document), str(out / "page")], check=True)
    seconds = children_cpu_seconds() - before
    shutil.rmtree(out)
    return seconds


def page_buffer(page: pdfium.PdfPage, scratch: Scratch):
    width, height = pixel_size(*page.get_size(), DPI)
    return scratch.array((height, width, 3))


def render_only_from_document(document: Path, scratch: Scratch) -> None:
    """Every page of the 60-page document into one reused buffer: the bare rendering."""
    pdf = pdfium.PdfDocument(document)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            render_into(page_buffer(page, scratch), page)
            page.close()
    finally:
        pdf.close()


def render_only_from_single_pages(single_pages: list[bytes], scratch: Scratch) -> None:
    """What render_page does before it encodes: open the one-page PDF, load, render."""
    for pdf in single_pages:
        with open_pdf(pdf) as document:
            page = document[0]
            render_into(page_buffer(page, scratch), page)
            page.close()


def pillow_png(pixels, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", **options)
    return buffer.getvalue()


def pillow_reference(document: Path) -> tuple[float, list[int], list[int]]:
    """(seconds of render + Pillow level 1, Pillow level 1 sizes, Pillow default sizes)."""
    pdf = pdfium.PdfDocument(document)
    fast_seconds, fast, default = 0.0, [], []
    try:
        for index in range(len(pdf)):
            started = time.process_time()
            page = pdf[index]
            pixels = render_pixels(page, dpi=DPI)
            fast.append(len(pillow_png(pixels, compress_level=1)))
            fast_seconds += time.process_time() - started
            default.append(len(pillow_png(pixels)))
            page.close()
    finally:
        pdf.close()
    return fast_seconds, fast, default


_SPLIT_CHILD = textwrap.dedent("""
    import json, sys, tempfile, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from lambda_src.pdf_pipeline.core.pdf import open_pdf
    from lambda_src.pdf_pipeline.core.split import split_into_chunks
    source, mode = Path(sys.argv[2]), sys.argv[3]
    pages, started = 0, time.process_time()
    if mode == "open":
        with open_pdf(source) as document:
            pages = len(document)
    else:
        for chunk in split_into_chunks(source, chunk_pages=10, out_dir=Path(tempfile.mkdtemp())):
            pages += chunk.last_page - chunk.first_page + 1
            chunk.path.unlink()
    seconds = time.process_time() - started
    # VmHWM (peak resident set of this process image); ru_maxrss would carry the parent's across exec
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({"pages": pages, "seconds": seconds, "peak_mib": int(peak.split()[1]) / 1024}))
""")


def split_child(document: Path, mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _SPLIT_CHILD, str(ROOT), str(document), mode],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mb", type=int, default=configured_memory_mb(),
                        help="convert_page's memory size (default: cdk.json, else 1769 = one vCPU)")
    parser.add_argument("--batch-size", type=int, default=10, help="SQS messages (pages) per invocation")
    args = parser.parse_args()
    core = pin_to_one_core()

    with tempfile.TemporaryDirectory(prefix="pdf-bench-") as tmp:
        work = Path(tmp)
        corpus = Corpus(work)
        started = time.perf_counter()
        document = corpus.path("benchmark_60")
        long_documents = {pages: corpus.long_document(pages) for pages in (1000, 5000)}
        generated = time.perf_counter() - started
        kinds = [kind for kind in PAGE_KINDS for _ in range(20)]
        page_count = len(kinds)

        single_pages: list[bytes] = []
        split_seconds = best_seconds(lambda: single_pages.__setitem__(
            slice(None), [pdf for _, pdf in split_into_pages(document)]))

        pdftoppm = ensure_pdftoppm()
        poppler = pdftoppm_seconds(pdftoppm, document, work) if pdftoppm else None
        scratch = Scratch()
        rendered: list = []
        timings = interleaved_best({
            "ceiling": lambda: render_only_from_single_pages(single_pages, scratch),
            "bare": lambda: render_only_from_document(document, scratch),
            "pipeline": lambda: rendered.__setitem__(slice(None), [
                render_page(pdf, dpi=DPI, max_pixels=MAX_PIXELS) for pdf in single_pages]),
        })
        ceiling, bare_ceiling, pipeline = timings["ceiling"], timings["bare"], timings["pipeline"]
        pillow_fast_seconds, pillow_fast, pillow_default = pillow_reference(document)
        ours = [len(page.png) for page in rendered]

        memory = {pages: (split_child(path, "open"), split_child(path, "split"), path.stat().st_size)
                  for pages, path in long_documents.items()}

    rate = page_count / ceiling
    ours_rate = page_count / pipeline
    print(f"corpus: {page_count} letter pages (20 text, 20 vector, 20 photo) at {DPI} DPI, "
          f"{rendered[0].width}x{rendered[0].height} px, generated in {generated:.1f} s; "
          f"pinned to CPU {core}, rates in CPU time")
    print(f"{'pdftoppm -png':<44} " + (f"{page_count / poppler:8.1f} pages/s" if poppler else "skipped "
                                        "(pdftoppm missing; apt-get install poppler-utils as root)"))
    bare_rate = page_count / bare_ceiling
    print(f"{'render only, one-page PDFs (the ceiling)':<44} {rate:8.1f} pages/s  {1000 / rate:6.1f} ms/page"
          "  (open, load, render: render_page without the PNG)")
    print(f"{'render only, pages of the 60-page document':<44} {bare_rate:8.1f} pages/s  "
          f"{1000 / bare_rate:6.1f} ms/page  (fonts and images parsed once per document)")
    print(f"{'pipeline render+encode (render_page)':<44} {ours_rate:8.1f} pages/s  {1000 / ours_rate:6.1f} ms/page"
          f"  {ours_rate / rate:4.0%} of the ceiling ({ours_rate / bare_rate:4.0%} of the bare render)"
          + (f", {ours_rate * poppler / page_count:4.1f}x pdftoppm" if poppler else ""))
    print(f"{'render + Pillow PNG compress_level=1':<44} {page_count / pillow_fast_seconds:8.1f} pages/s"
          f"  {1000 * pillow_fast_seconds / page_count:6.1f} ms/page")
    print("PNG bytes per page      pipeline   Pillow default  ratio (max page)   Pillow level 1")
    for kind in (*PAGE_KINDS, "all"):
        chosen = [i for i, k in enumerate(kinds) if kind in ("all", k)]
        mine = sum(ours[i] for i in chosen) / len(chosen)
        theirs = sum(pillow_default[i] for i in chosen) / len(chosen)
        worst = max(ours[i] / pillow_default[i] for i in chosen)
        fast = sum(pillow_fast[i] for i in chosen) / len(chosen)
        print(f"  {kind:<20} {mine:>10,.0f} {theirs:>16,.0f}  {mine / theirs:5.2f} ({worst:4.2f})  {fast:>15,.0f}")
    print(f"{'split into single pages (60-page document)':<44} {page_count / split_seconds:8.0f} pages/s")
    for pages, (opened, split, size) in memory.items():
        print(f"split {pages:>5,} pages ({size / 2 ** 20:3.0f} MiB) into 10-page chunks: "
              f"{split['pages'] / split['seconds']:6,.0f} pages/s, peak memory {split['peak_mib']:5.1f} MiB "
              f"(a process that only opens it: {opened['peak_mib']:4.1f} MiB)")
    effective_ms = 1000 / ours_rate * max(1.0, ONE_VCPU_MB / args.memory_mb)
    compute = 1e6 * effective_ms / 1000 * args.memory_mb / 1024 * ARM_PRICE_PER_GB_SECOND
    requests = 1e6 / args.batch_size / 1e6 * PRICE_PER_MILLION_REQUESTS
    print(f"Lambda cost per million pages (convert_page, arm64, {args.memory_mb} MB, {effective_ms:.1f} ms/page, "
          f"${ARM_PRICE_PER_GB_SECOND:.10f}/GB-s, {args.batch_size} pages/invocation): "
          f"${compute + requests:.2f} (${compute:.2f} compute + ${requests:.2f} requests; "
          "measured on this machine's CPU, not Graviton)")


if __name__ == "__main__":
    main()
