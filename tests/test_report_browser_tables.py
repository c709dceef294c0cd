"""The main job's report on a real raw table, opened in headless Chromium (issue 11, Done-when).

``retroprop train`` with its defaults (the seed fixed) on the raw Palmer penguins table
(tests/data/penguins_raw.csv: gaps, categorical columns, identifier-like columns, long class
names); the report renders, fits a 1400 px window with no chart text outside its chart, asks
nothing of the network, and shows the data summary, the verdict line and the metrics. Skipped
where Chromium is not installed (CI installs Debian's package).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_report_browser import BROWSER, Listener, assert_drawn, browser_own_requests

from retroprop.cli import main

pytestmark = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed")

PENGUINS = Path(__file__).parent / "data" / "penguins_raw.csv"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]  # fmt: skip

# the page's scroll width, the widest box's right edge, and the chart texts that stick out of
# their <svg> (a clipped title), written into the title
MEASURE = """<script>
const boxes = [...document.querySelectorAll('section, table, pre, img, dl, svg')];
const right = Math.max(...boxes.map(e => Math.ceil(e.getBoundingClientRect().right)));
const out = [];
for (const svg of document.querySelectorAll('svg')) {
  const b = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    const outside = r.left < b.left - 1 || r.right > b.right + 1;
    if (outside || r.top < b.top - 1 || r.bottom > b.bottom + 1) out.push(t.textContent);
  }
}
document.title = 'W' + document.documentElement.scrollWidth + 'x' + right + 'S'
  + document.querySelectorAll('svg').length + 'C' + out.join('|');
</script></body>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("penguins") / "run"
    code = main(["train", "--data", str(PENGUINS), "--target", "Species", "--seed", "0",
                 "--quiet", "--out", str(out)])  # fmt: skip
    assert code == 0
    return out / "report.html"


def test_the_report_of_a_raw_table_shows_the_data_the_verdict_and_the_metrics(report):
    page = report.read_text()
    data = page[page.index('<section id="data">') :].split("</section>")[0]
    assert "344 rows" in data
    for column in ("Culmen Length (mm)", "Sex", "Delta 15 N (o/oo)", "Comments"):
        assert f"<td>{column}</td>" in data  # each input column, with its kind and gaps
    assert "median + missing indicator" in data and "own &#x27;(missing)&#x27; category" in data
    assert "Classes of Species" in data and "Gentoo penguin (Pygoscelis papua)" in data
    verdict = re.search(r'<p class="verdict">([^<]+)</p>', page)
    assert verdict and "test accuracy" in verdict[1] and "baseline" in verdict[1]
    results = page[page.index('<section id="results">') :].split("</section>")[0]
    assert "balanced_accuracy" in results and "baseline (test)" in results
    assert "Per class (test)" in results
    assert "data:image/png" not in page  # no 2-D boundary here: every chart is inline SVG
    assert page.count("<svg ") >= 4  # curves, confusion matrix, network, gradient flow


def test_the_report_of_a_raw_table_fits_1400_px_with_no_chart_text_clipped(report, tmp_path):
    measured = tmp_path / "measured.html"
    measured.write_text(report.read_text().replace("</body>", MEASURE))
    done = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         measured.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r"<title>W(\d+)x(\d+)S(\d+)C([^<]*)</title>", done.stdout)
    assert found, f"Chromium gave no measurement: {done.stderr[-500:]}"
    scroll, right, charts, clipped = int(found[1]), int(found[2]), int(found[3]), found[4]
    assert charts >= 4
    assert scroll <= 1400 and right <= 1400
    assert clipped == "", f"chart texts outside their chart: {clipped}"


def test_the_report_of_a_raw_table_renders_offline(report, tmp_path):
    browser_own = browser_own_requests(tmp_path)
    listener = Listener()
    png = tmp_path / "report.png"
    try:
        subprocess.run(
            [BROWSER, *FLAGS, f"--proxy-server=127.0.0.1:{listener.port}",
             f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
             "--window-size=1400,3000", report.resolve().as_uri()],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        listener.close()
    assert png.is_file(), "Chromium wrote no screenshot"
    assert listener.page_requests(browser_own) == [], f"the page asked for {listener.hosts}"
    assert_drawn(png, (3000, 1400))
