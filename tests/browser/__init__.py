"""Helpers for the real-browser end-to-end test (tests/test_browser.py): a JupyterLab server and
Playwright driving Debian's Chromium with the network cut off."""
