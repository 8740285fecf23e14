import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    # Peer connections between two local browsers: offer loopback candidates, unobscured by mDNS.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    # Per module: Playwright's sync API keeps an event loop running in this thread while it is open,
    # and tests that run later (Channels' async_to_sync) must not find one.
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it
    # are ordinary synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _watch_for_policy_violations(context, violations: list) -> None:
    """Every page the browser opens reports what the Content-Security-Policy blocked (an inline
    script, a style, a frame or a connection the page did not declare); a test fails on any."""
    def on_page(page):
        page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text else None)
    context.on("page", on_page)


@pytest.fixture
def csp_violations():
    violations = []
    yield violations
    assert violations == [], "the Content-Security-Policy blocked part of a page"


@pytest.fixture
def page(browser, csp_violations):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    _watch_for_policy_violations(context, csp_violations)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def new_context(browser, csp_violations):
    """Browser contexts for one test, all closed after it: a room page left open keeps its fake camera
    and peer connections running, and the CPU it burns slows every later test."""
    opened = []

    def open_context(**options):
        context = browser.new_context(**options)
        _watch_for_policy_violations(context, csp_violations)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def assert_accessible(page, context: str = "") -> None:
    """Run axe-core on the page as it stands and fail on any critical or serious violation. axe is
    evaluated over the DevTools protocol, so the page's Content-Security-Policy stays as served."""
    violations = page.evaluate(
        AXE_SOURCE.read_text()
        + ";axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
          ".filter(v => v.impact === 'critical' || v.impact === 'serious')"
          ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
          " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))")
    assert violations == [], f"axe-core on {context or page.url}: {violations}"


def signed_in_page(context, base_url: str, user):
    """A page of the context carrying the user's session (signing in itself is tested in its own files)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])
    return context.new_page()


def save_screenshot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


FACTORY_PASSWORD = "correct horse battery staple"  # tests/factories.py's UserFactory


def sign_in_with_password(page, base_url: str, email: str, password: str = FACTORY_PASSWORD,
                          organization: str = "acme"):
    """Sign in on the portal's own pages, by the organization's short name, then email and password."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Work email or organization short name").fill(organization)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/o/{organization}/")
