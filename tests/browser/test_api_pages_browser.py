"""The API reference and the API keys page work under the portal's strict Content-Security-Policy:
Swagger UI renders from files the portal serves, and a key made on the page calls the API."""

import pytest
import requests

pytestmark = pytest.mark.browser


def test_the_api_reference_renders_without_a_policy_violation(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector("#swagger-ui .info .title")

    assert "Meeting portal API" in page.inner_text("#swagger-ui .info .title")
    assert page.locator("#operations-meetings-meetings_list").count() == 1


def test_a_key_made_on_the_page_is_shown_once_and_calls_the_api(page, live_server, alice):
    alice.user.set_password("owner passphrase")
    alice.user.save()
    page.goto(f"{live_server.url}/login/password/")
    page.fill("#id_username", alice.user.email)
    page.fill("#id_password", "owner passphrase")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{live_server.url}/o/{alice.organization.slug}/integrations/api-keys/")
    page.fill("#id_name", "LMS")
    page.check("input[name=scopes][value=write]")
    page.click("text=Make the key")
    key = page.input_value("input[data-key]")

    answer = requests.get(f"{live_server.url}/api/v1/rooms", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert answer.status_code == 200
    page.reload()
    assert page.locator("input[data-key]").count() == 0 and key not in page.content()
