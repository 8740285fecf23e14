"""Operators' Django admin works under the portal's strict Content-Security-Policy: its scripts
(autocomplete, inlines, date pickers) run, and nothing on its pages is blocked."""

import pytest

from ..factories import MeetingFactory, UserFactory

pytestmark = pytest.mark.browser


def test_admin_pages_work_with_the_strict_policy(page, live_server, alice, acme):
    operator = UserFactory(email="root@portal.test", is_staff=True, is_superuser=True)
    operator.set_password("operator passphrase")
    operator.save()
    meeting = MeetingFactory(organization=acme, owner=alice.user, title="Board")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "root@portal.test")
    page.fill("#id_password", "operator passphrase")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(f"{live_server.url}/admin/meetings/meeting/{meeting.pk}/change/")
    page.click(".field-owner .select2-selection")  # autocomplete is a script: it opens a search box
    page.wait_for_selector(".select2-search__field")
    page.keyboard.press("Escape")
    assert page.locator(".datetimeshortcuts").count() > 0  # the date pickers' script ran

    page.goto(f"{live_server.url}/admin/accounts/organization/{acme.pk}/change/")
    page.wait_for_selector(".add-row a")  # the inline formset script adds its "Add another" link
    page.goto(f"{live_server.url}/admin/accounts/user/{alice.user.pk}/change/")
    page.wait_for_selector("#id_email")
