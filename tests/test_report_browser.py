"""The report opened in a real browser (headless Chromium): it renders, and asks nothing of the
network. Skipped where Chromium is not installed (CI installs Debian's package)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading

import numpy as np
import pytest

from retroprop.cli import main

BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed")


# Chromium asks its own services for updates, the time and sign-in state even headless, with
# background networking disabled; those requests are not the page's. Anything else is.
CHROMIUM_SERVICES = {
    "accounts.google.com",
    "android.clients.google.com",
    "clients2.google.com",
    "clientservices.googleapis.com",
    "content-autofill.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "redirector.gvt1.com",
    "safebrowsing.googleapis.com",
    "update.googleapis.com",
}


class Listener:
    """A TCP server on 127.0.0.1, the browser's proxy: it records the host of every request."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.hosts: list[str] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            connection.settimeout(2)
            try:
                line = connection.recv(4096).split(b"\r\n")[0].decode("latin-1")
            except OSError:
                line = "? ?unknown"
            finally:
                connection.close()
            # "CONNECT host:443 HTTP/1.1" or "GET http://host/path HTTP/1.1"
            target = line.split(" ")[1] if " " in line else line
            self.hosts.append(target.split("//")[-1].split("/")[0].split(":")[0])

    def page_requests(self, browser_own: set[str] = frozenset()) -> list[str]:
        """The hosts asked for that are not Chromium's own services (the known ones, and those
        it asked for while showing an empty page: ``browser_own``)."""
        return [h for h in self.hosts if h not in CHROMIUM_SERVICES and h not in browser_own]

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=3)
        self.server.close()


def screenshot(html_path, png_path, profile, proxy_port: int) -> None:
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--proxy-server=127.0.0.1:{proxy_port}",
        f"--user-data-dir={profile}",
        f"--screenshot={png_path}",
        "--window-size=1200,2000",
        html_path.resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=False)


def assert_drawn(png, size: tuple[int, int]) -> None:
    """The screenshot ``png`` has ``size`` (height, width) pixels and is drawn: not a blank
    page, and more than 200 colours (figures, not just text on a background)."""
    from matplotlib.image import imread

    pixels = imread(png)[:, :, :3]
    assert pixels.shape[:2] == size
    assert pixels.std() > 0.05  # not a blank page
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200  # figures, not just text on a background


def browser_own_requests(tmp_path) -> set[str]:
    """The hosts Chromium asks for by itself (its version's own services), seen while it shows
    an empty page with the same flags: those requests are not the page's."""
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>")
    listener = Listener()
    try:
        screenshot(empty, tmp_path / "empty.png", tmp_path / "empty-profile", listener.port)
    finally:
        listener.close()
    return set(listener.hosts) - {"example.test"}


def test_report_renders_offline_in_chromium(tmp_path):
    out = tmp_path / "run"
    code = main(["train", "--dataset", "blobs", "--epochs", "5", "--seed", "0", "--quiet",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    html_path = out / "report.html"
    html = html_path.read_text()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?!data:)[a-z]+:""", html)
    assert 'id="gradient-flow"' in html

    browser_own = browser_own_requests(tmp_path)
    listener = Listener()
    try:
        png = tmp_path / "report.png"
        screenshot(html_path, png, tmp_path / "profile", listener.port)
    finally:
        listener.close()
    assert png.is_file(), "Chromium wrote no screenshot"
    assert listener.page_requests(browser_own) == [], (
        f"the page made network requests: {listener.hosts}"
    )
    assert_drawn(png, (2000, 1200))


def test_the_proxy_listener_does_catch_a_page_request(tmp_path):
    """The control: a page that loads an outside image is caught, so the test above can fail."""
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://example.test/pixel.png">hi</body></html>')
    listener = Listener()
    try:
        screenshot(page, tmp_path / "leaky.png", tmp_path / "profile", listener.port)
    finally:
        listener.close()
    assert "example.test" in listener.page_requests(browser_own_requests(tmp_path))
