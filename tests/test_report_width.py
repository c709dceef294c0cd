"""The report and the experiment page fit a 1400 px window in headless Chromium (issue 11: the
experiment page overflowed), checked on a real table when its package is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from retroprop.cli import main

BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed")

# writes the page's scroll width, and the right edge of its widest box, into the title
MEASURE = (
    "<script>document.title = 'W' + document.documentElement.scrollWidth + 'x' + Math.max("
    "...[...document.querySelectorAll('section, table, pre, img, dl')].map("
    "e => Math.ceil(e.getBoundingClientRect().right)));</script></body>"
)


def widths(page: Path, tmp_path: Path) -> tuple[int, int]:
    """(scroll width, widest box's right edge) of ``page`` in a 1400 x 1000 px window."""
    measured = tmp_path / f"{page.parent.name}-measured.html"
    measured.write_text(page.read_text().replace("</body>", MEASURE))
    done = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1400,1000", "--dump-dom", measured.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r"<title>W(\d+)x(\d+)</title>", done.stdout)
    assert found, f"Chromium gave no measurement: {done.stderr[-500:]}"
    return int(found[1]), int(found[2])


def test_the_training_report_of_a_real_table_fits_1400_px(tmp_path):
    penguins = pytest.importorskip("palmerpenguins")
    data = Path(penguins.__file__).parent / "data" / "penguins-raw.csv"
    out = tmp_path / "penguins"
    assert main(["train", "--data", str(data), "--target", "Species", "--epochs", "5",
                 "--seed", "0", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    scroll, right = widths(out / "report.html", tmp_path)
    assert scroll <= 1400 and right <= 1400


def test_the_experiment_page_fits_1400_px(tmp_path):
    out = tmp_path / "experiment"
    assert main(["experiment", "--dataset", "spirals", "--vary", "optimizer=sgd,momentum,adam",
                 "--epochs", "2", "--seed", "0", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    scroll, right = widths(out / "report.html", tmp_path)
    assert scroll <= 1400 and right <= 1400
