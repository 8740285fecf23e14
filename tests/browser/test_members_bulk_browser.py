"""An owner adds people in bulk on the members page: a refused list shows a report per row and adds
nobody; the fixed list and a CSV add everyone, in Chromium."""

import pytest
from playwright.sync_api import expect

from accounts.models import Membership

from .conftest import assert_accessible, sign_in_with_password

pytestmark = pytest.mark.browser



@pytest.mark.parametrize("viewport", [{"width": 1200, "height": 800},
                                      {"width": 390, "height": 844, "is_mobile": True}], ids=["desktop", "phone"])
def test_an_owner_pastes_a_list_fixes_the_refused_row_and_uploads_a_csv(new_context, live_server, alice, bob,
                                                                         viewport, tmp_path):
    page = new_context(viewport=viewport, timezone_id="Europe/Berlin").new_page()
    sign_in_with_password(page, live_server.url, alice.user.email)
    page.get_by_role("link", name="Members").click()

    people = page.get_by_label("People")
    people.fill("Ada Lovelace <ada@acme.test>, host\nbob@acme.test\ngrace@acme.test, chief")
    page.get_by_role("button", name="Add everyone").click()

    report = page.locator("#import-report")
    expect(report).to_contain_text("Nobody was added")
    rows = report.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("accepted")
    expect(rows.nth(1)).to_contain_text("refused: already a member")
    expect(rows.nth(2)).to_contain_text("unknown role “chief”")
    assert not Membership.objects.filter(user__email="ada@acme.test").exists()
    assert_accessible(page, "the members page with a bulk report")
    if viewport.get("is_mobile"):
        page.screenshot(path="test-artifacts/members-bulk-report-phone.png", full_page=True)
        return
    page.screenshot(path="test-artifacts/members-bulk-report.png", full_page=True)

    people.fill("Ada Lovelace <ada@acme.test>, host\ngrace@acme.test")
    page.get_by_role("button", name="Add everyone").click()
    expect(page.locator(".messages")).to_contain_text("2 people were added.")
    expect(page.locator("tr[data-member='ada@acme.test']")).to_contain_text("Ada Lovelace")
    assert Membership.objects.get(user__email="ada@acme.test").role == "host"

    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,name,role\nlin@acme.test,Lin Yu,admin\nmo@acme.test,,\n", encoding="utf-8")
    page.get_by_label("Or a CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Add everyone").click()
    expect(page.locator(".messages")).to_contain_text("2 people were added.")
    assert dict(Membership.objects.filter(user__email__in=["lin@acme.test", "mo@acme.test"])
                .values_list("user__email", "role")) == {"lin@acme.test": "admin", "mo@acme.test": "member"}
