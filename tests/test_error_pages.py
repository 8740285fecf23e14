"""Errors are shown in the portal's own layout."""

from django.test import RequestFactory

from portal.outage import server_error


def test_a_server_error_is_a_page_of_the_portal_not_a_bare_line():
    response = server_error(RequestFactory().get("/o/acme/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert 'class="topbar"' in page and "Something went wrong on our side" in page and 'href="/"' in page
