"""The dashboard in a real browser: Debian's headless Chromium driven through
chromium-driver (selenium), against the built llmlab-server of conftest.py.

A tenant of its own ("webco": an owner and a viewer, one project with a budget, an OpenAI
provider key, a proxy key and an ingest key) gets three chat completions through the proxy
with the official `openai` client and one failing agent trace over OTLP/HTTP. The browser
then logs in, reads the exact spend against the budget on the overview, opens the cost
page, the trace waterfall with its explanation and the settings; the viewer sees the same
numbers and no form. Screenshots go to .build/artifacts/dashboard/ (or
$LLMLAB_ARTIFACTS_DIR) as test artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, PROVIDER_SECRET, REPO, Stack
from test_openai_proxy import COST, MODEL

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("LLMLAB_ARTIFACTS_DIR", REPO / ".build" / "artifacts" / "dashboard"))
REQUESTS = 3
BUDGET = "0.01"


@dataclass
class WebTenant:
    slug: str
    owner: str
    viewer: str
    project_id: str
    trace_id: str
    spend: Decimal
    proxy_key: str


@pytest.fixture(scope="module")
def web(stack: Stack) -> WebTenant:
    env = dict(stack.env, HOME=str(stack.home.parent / "user-webco"))
    Path(env["HOME"]).mkdir(exist_ok=True)
    stack.admin("tenant", "create", "webco", "--name", "Web Co", "--owner-email", "owner@webco.example",
                stdin=PASSWORD + "\n", env=env)
    stack.admin("login", "--tenant", "webco", "--email", "owner@webco.example", stdin=PASSWORD + "\n", env=env)
    stack.admin("user", "add", "viewer@webco.example", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n", env=env)
    project = stack.admin_json("project", "create", "Web shop", "--providers", "openai", "--budget", BUDGET,
                               env=env)["id"]
    stack.admin("key", "put", "--project", project, "--provider", "openai", stdin=PROVIDER_SECRET + "\n", env=env)
    proxy_key = stack.admin_json("apikey", "create", "web-app", "--role", "member", "--project", project,
                                 "--scopes", "proxy", env=env)["secret"]
    ingest_key = stack.admin_json("apikey", "create", "web-otel", "--role", "member", "--project", project,
                                  "--scopes", "ingest", env=env)["secret"]

    client = OpenAI(api_key=proxy_key, base_url=stack.base_url, max_retries=0, timeout=30)
    for _ in range(REQUESTS):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Say hello"}])

    # One failing agent run over OTLP/HTTP: agent → failing tool.
    provider = TracerProvider(resource=Resource.create({"service.name": "webco-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
        endpoint=f"{stack.root_url}/v1/traces", headers={"authorization": f"Bearer {ingest_key}"}, timeout=10)))
    tracer = provider.get_tracer("webco")
    with tracer.start_as_current_span("invoke_agent checkout", attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "checkout"}) as root:
        trace_id = format(root.get_span_context().trace_id, "032x")
        with tracer.start_as_current_span("execute_tool charge_card", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "charge_card"}) as tool:
            tool.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, "card declined by issuer"))
    provider.shutdown()

    # Usage events are written in the background: wait until the project's spend shows them.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        events = stack.admin_json("usage", "list", "--project", project, env=env)
        if len(events) >= REQUESTS:
            break
        time.sleep(0.3)
    else:
        pytest.fail("the proxied requests' usage events did not arrive")
    # The trace's spans are written in the background too.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = subprocess.run([str(stack.admin_path), "trace", "show", trace_id, "--json"], env=env, capture_output=True,
                               text=True, timeout=60)
        if shown.returncode == 0 and len(json.loads(shown.stdout).get("spans", [])) >= 2:
            break
        time.sleep(0.3)
    else:
        pytest.fail(f"trace {trace_id} did not arrive")
    return WebTenant(slug="webco", owner="owner@webco.example", viewer="viewer@webco.example", project_id=project,
                     trace_id=trace_id, spend=COST * REQUESTS, proxy_key=proxy_key)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1366,1000", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def login(driver: WebDriver, stack: Stack, web: WebTenant, email: str) -> None:
    driver.get(f"{stack.root_url}/ui/login")
    driver.find_element(By.NAME, "tenant").send_keys(web.slug)
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/ui/login'] button[type='submit']").click()
    WebDriverWait(driver, 15).until(lambda d: "/ui/login" not in d.current_url)
    loaded(driver)


def loaded(driver: WebDriver) -> None:
    """Waits for the page a click navigated to to finish loading."""
    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def by_testid(driver: WebDriver, testid: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"[data-testid='{testid}']")


def usd(element: Any) -> Decimal:
    """The exact amount of a money figure (its data-usd attribute)."""
    return Decimal(element.get_attribute("data-usd"))


def test_owner_sees_exact_spend_against_budget(stack: Stack, web: WebTenant, browser: WebDriver) -> None:
    login(browser, stack, web, web.owner)
    assert browser.current_url.rstrip("/").endswith("/ui"), browser.current_url
    spend = by_testid(browser, f"spend-{web.project_id}")
    assert usd(spend) == web.spend
    assert spend.get_attribute("title") == f"${web.spend}"
    assert usd(by_testid(browser, f"budget-{web.project_id}")) == Decimal(BUDGET)
    assert usd(by_testid(browser, "spend-month-total")) == web.spend
    forecast = usd(by_testid(browser, f"forecast-{web.project_id}"))
    assert forecast >= web.spend
    bar = by_testid(browser, f"budget-bar-{web.project_id}")
    assert bar.tag_name == "svg" or bar.find_elements(By.TAG_NAME, "svg"), "the budget bar is an SVG chart"
    assert "Web shop" in by_testid(browser, "forecast-table").text
    shot(browser, "01-overview")


def test_cost_page_charts_the_spend_by_model(stack: Stack, web: WebTenant, browser: WebDriver) -> None:
    login(browser, stack, web, web.owner)
    browser.get(f"{stack.root_url}/ui/cost?range=24h&by=model&granularity=hour")
    assert usd(by_testid(browser, "cost-total")) == web.spend
    chart = by_testid(browser, "cost-chart")
    assert chart.tag_name == "svg" or chart.find_elements(By.TAG_NAME, "svg")
    assert MODEL in by_testid(browser, "top-models").text
    shot(browser, "02-cost")


def test_trace_waterfall_and_explanation(stack: Stack, web: WebTenant, browser: WebDriver) -> None:
    login(browser, stack, web, web.owner)
    browser.get(f"{stack.root_url}/ui/traces")
    link = browser.find_element(By.CSS_SELECTOR, f"a[href='/ui/traces/{web.trace_id}']")
    link.click()
    loaded(browser)
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid='waterfall']")))
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-testid='waterfall-row']")
    assert len(rows) == 2, [row.text for row in rows]
    assert any("charge_card" in row.text for row in rows)
    explain = by_testid(browser, "explain")
    assert "charge_card" in explain.text and "card declined by issuer" in explain.text, explain.text
    shot(browser, "03-trace-waterfall")


def test_settings_mask_keys_and_forms_work(stack: Stack, web: WebTenant, browser: WebDriver) -> None:
    login(browser, stack, web, web.owner)
    browser.get(f"{stack.root_url}/ui/settings/keys")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "web-app" in page and "web-otel" in page
    assert web.proxy_key not in browser.page_source, "a key's secret is never shown again"
    shot(browser, "04-settings-keys")
    # A real form post from the browser (its CSRF token included): create a project.
    browser.get(f"{stack.root_url}/ui/settings/projects")
    form = by_testid(browser, "create-project-form")
    form.find_element(By.NAME, "name").send_keys("Made in the browser")
    form.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    # The post redirects back to the page: the old body goes stale while it loads.
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "Made in the browser" in d.find_element(By.TAG_NAME, "body").text)
    env = dict(stack.env, HOME=str(stack.home.parent / "user-webco"))
    names = [p["name"] for p in stack.admin_json("project", "list", env=env)]
    assert "Made in the browser" in names
    shot(browser, "05-settings-projects")


def test_viewer_sees_everything_and_changes_nothing(stack: Stack, web: WebTenant, browser: WebDriver) -> None:
    login(browser, stack, web, web.viewer)
    assert usd(by_testid(browser, f"spend-{web.project_id}")) == web.spend
    browser.get(f"{stack.root_url}/ui/settings/projects")
    by_testid(browser, "read-only")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='create-project-form']")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[method='post']:not([data-testid='logout-form'])")
    shot(browser, "06-viewer-settings")


def test_billing_reconciles_an_imported_export(stack: Stack, web: WebTenant, browser: WebDriver,
                                               tmp_path: Path) -> None:
    # The provider's export says it billed 5 cents more than LLMLab tracked for the model today
    # (above both the 5 % threshold and the $0.01 minimum difference).
    env = dict(stack.env, HOME=str(stack.home.parent / "user-webco"))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    billed = web.spend + Decimal("0.05")
    export = tmp_path / "openai-export.csv"
    export.write_text(f"date,provider,model,cost_usd\n{today},openai,{MODEL},{billed}\n")
    stack.admin("billing", "import", str(export), "--format", "csv", env=env)
    login(browser, stack, web, web.owner)
    browser.get(f"{stack.root_url}/ui/billing?from={today}&to={today}")
    total = browser.find_element(By.CSS_SELECTOR, "[data-testid='billing-total'][data-provider='openai']")
    cells = total.find_elements(By.CSS_SELECTOR, ".usd")
    assert [usd(cell) for cell in cells[:3]] == [web.spend, billed, billed - web.spend]
    assert "flagged" in (total.get_attribute("class") or "")
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-testid='billing-row']")) == 1
    shot(browser, "07-billing")
