"""Start and drive the test identity provider process (tests/oidc_idp.py) from tests."""

import secrets
from urllib.parse import parse_qs, urlsplit

import requests

from .processes import start_listening


class TestIdentityProvider:
    def __init__(self):
        self.control_token = secrets.token_urlsafe(16)
        self.process, port = start_listening("oidc_idp.py", f"--control-token={self.control_token}")
        self.issuer = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def control(self, **body):
        response = requests.post(f"{self.issuer}/_control", json=body,
                                 headers={"X-Control-Token": self.control_token}, timeout=5)
        response.raise_for_status()

    def add_client(self, client_id, secret, base_urls):
        self.control(clients={client_id: {
            "secret": secret,
            "redirect_uris": [f"{base}/oidc/callback/" for base in base_urls],
            "post_logout_redirect_uris": [f"{base}/login/" for base in base_urls],
        }})

    def add_user(self, username, **fields):
        """Create or update a user; a new one gets sub "sub-<username>", password "pw" and an email."""
        self.control(users={username: fields})

    def misbehave(self, **overrides):
        """rogue_key=True, aud="...", exp_offset=-600; misbehave() restores normal behaviour."""
        self.control(overrides=overrides)

    def log(self):
        return requests.get(f"{self.issuer}/_control/log",
                            headers={"X-Control-Token": self.control_token}, timeout=5).json()

    def sign_in(self, authorize_url, username, password="pw", session=None):  # noqa: S107 test user
        """Play the person at the login form; return the portal callback URL the IdP redirects to."""
        browser = session or requests.Session()
        form_page = browser.get(authorize_url, timeout=5)
        assert form_page.status_code == 200, form_page.text
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        answer = browser.post(f"{self.issuer}/authorize", data={**params, "username": username,
                                                                  "password": password},
                              allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]
