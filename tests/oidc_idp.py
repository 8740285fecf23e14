"""A small OpenID Connect identity provider for the test suite, run as its own process.

It speaks real HTTP: discovery, JWKS, an HTML login form at the authorization endpoint, the token
endpoint (client_secret_basic or _post, single-use codes, PKCE S256 required), userinfo and
end_session. ID tokens are RS256. Tests drive it through /_control (guarded by a token given on the
command line) to register clients and users, disable a user, or make it misbehave on purpose: sign
with a key it does not publish, issue for another audience, or issue already-expired tokens.

    python tests/oidc_idp.py --control-token SECRET     # prints "LISTENING <port>" when ready
"""

import argparse
import base64
import hashlib
import html
import json
import secrets
import sys
import threading
import time
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "test-key-1"


class State:
    def __init__(self, control_token: str):
        self.control_token = control_token
        self.lock = threading.Lock()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.clients: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, str] = {}
        self.sessions: dict[str, str] = {}
        self.overrides: dict = {}
        self.log: list[dict] = []
        self.issuer = ""

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid=KID, alg="RS256", use="sig")
        return {"keys": [public]}


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # --- plumbing --------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data, headers: dict | None = None):
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _html(self, status: int, text: str, headers: dict | None = None):
        page = f"<!doctype html><html><head><title>Test IdP</title></head><body>{text}</body></html>"
        self._send(status, page.encode(), "text/html; charset=utf-8", headers)

    def _redirect(self, location: str, headers: dict | None = None):
        self._send(302, b"", "text/plain", {"Location": location, **(headers or {})})

    def _form(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def _query(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _session_user(self) -> str | None:
        jar = cookies.SimpleCookie(self.headers.get("Cookie", ""))
        sid = jar["idp_session"].value if "idp_session" in jar else None
        return self.state.sessions.get(sid) if sid else None

    # --- routing ---------------------------------------------------------------------------------
    def do_GET(self):
        path = urlsplit(self.path).path
        routes = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                  "/authorize": self.authorize_get, "/userinfo": self.userinfo, "/logout": self.logout,
                  "/_control/log": self.control_log}
        self.state.log.append({"method": "GET", "path": path, "at": time.time(),
                               "user_agent": self.headers.get("User-Agent", "")})
        routes.get(path, self.not_found)()

    def do_POST(self):
        path = urlsplit(self.path).path
        routes = {"/authorize": self.authorize_post, "/token": self.token, "/_control": self.control}
        self.state.log.append({"method": "POST", "path": path, "at": time.time(),
                               "user_agent": self.headers.get("User-Agent", "")})
        routes.get(path, self.not_found)()

    def not_found(self):
        self._json(404, {"error": "not_found"})

    # --- OpenID Connect --------------------------------------------------------------------------
    def discovery(self):
        issuer = self.state.issuer
        self._json(200, {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
        })

    def jwks(self):
        self._json(200, self.state.jwks())

    def _check_authorization_request(self, params: dict) -> str | None:
        client = self.state.clients.get(params.get("client_id", ""))
        if client is None:
            return "unknown client"
        if params.get("redirect_uri") not in client["redirect_uris"]:
            return "redirect_uri not registered"
        if params.get("response_type") != "code":
            return "only response_type=code"
        if "openid" not in params.get("scope", "").split():
            return "scope must include openid"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE with S256 is required"
        return None

    def _issue_code(self, params: dict, username: str, extra_headers: dict | None = None):
        code = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.codes[code] = {
                "client_id": params["client_id"], "redirect_uri": params["redirect_uri"],
                "username": username, "nonce": params.get("nonce"),
                "challenge": params["code_challenge"], "used": False, "issued": time.time(),
            }
        query = urlencode({"code": code, "state": params.get("state", "")})
        self._redirect(f"{params['redirect_uri']}?{query}", extra_headers)

    def _login_form(self, params: dict, status: int = 200, error: str = ""):
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items() if k not in ("username", "password"))
        message = f'<p id="error">{html.escape(error)}</p>' if error else ""
        self._html(status, f"""<h1>Test identity provider</h1>{message}
            <form method="post" action="/authorize">{hidden}
            <label>Username <input name="username" id="username"></label>
            <label>Password <input name="password" id="password" type="password"></label>
            <button type="submit" id="submit">Sign in</button></form>""")

    def authorize_get(self):
        params = self._query()
        if problem := self._check_authorization_request(params):
            return self._html(400, f"<p>Bad request: {html.escape(problem)}</p>")
        if params.get("prompt") == "none":
            username = self._session_user()
            if username is None or self.state.users.get(username, {}).get("disabled"):
                query = urlencode({"error": "login_required", "state": params.get("state", "")})
                return self._redirect(f"{params['redirect_uri']}?{query}")
            return self._issue_code(params, username)
        self._login_form(params)

    def authorize_post(self):
        params = self._form()
        if problem := self._check_authorization_request(params):
            return self._html(400, f"<p>Bad request: {html.escape(problem)}</p>")
        user = self.state.users.get(params.get("username", ""))
        if user is None or user["password"] != params.get("password") or user.get("disabled"):
            return self._login_form(params, 401, "Wrong username or password.")
        sid = secrets.token_urlsafe(16)
        self.state.sessions[sid] = params["username"]
        self._issue_code(params, params["username"], {"Set-Cookie": f"idp_session={sid}; Path=/; HttpOnly"})

    def _client_from_request(self, form: dict) -> dict | None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        client = self.state.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client["secret"], secret or ""):
            return None
        return {**client, "client_id": client_id}

    def token(self):
        form = self._form()
        client = self._client_from_request(form)
        if client is None:
            return self._json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return self._json(400, {"error": "unsupported_grant_type"})
        with self.state.lock:
            grant = self.state.codes.get(form.get("code", ""))
            replayed = grant is not None and grant["used"]
            if grant is not None:
                grant["used"] = True
        if grant is None or replayed or time.time() - grant["issued"] > 60:
            return self._json(400, {"error": "invalid_grant", "error_description": "code unknown, used or expired"})
        if grant["client_id"] != client["client_id"] or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._json(400, {"error": "invalid_grant", "error_description": "code issued to another client"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})

        user = self.state.users[grant["username"]]
        now = int(time.time())
        overrides = self.state.overrides
        claims = {
            "iss": self.state.issuer, "sub": user["sub"], "aud": overrides.get("aud", client["client_id"]),
            "iat": now, "auth_time": now, "exp": now + overrides.get("exp_offset", 300),
            "email": user["email"], "email_verified": user.get("email_verified", True),
            "name": user.get("name", ""), "groups": user.get("groups", []),
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        key = self.state.rogue_key if overrides.get("rogue_key") else self.state.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
        access_token = secrets.token_urlsafe(24)
        self.state.access_tokens[access_token] = grant["username"]
        self._json(200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                         "id_token": id_token})

    def userinfo(self):
        auth = self.headers.get("Authorization", "")
        username = self.state.access_tokens.get(auth.removeprefix("Bearer ").strip())
        if username is None:
            return self._json(401, {"error": "invalid_token"})
        user = self.state.users[username]
        self._json(200, {"sub": user["sub"], "email": user["email"],
                         "email_verified": user.get("email_verified", True),
                         "name": user.get("name", ""), "groups": user.get("groups", [])})

    def logout(self):
        params = self._query()
        jar = cookies.SimpleCookie(self.headers.get("Cookie", ""))
        if "idp_session" in jar:
            self.state.sessions.pop(jar["idp_session"].value, None)
        clear = {"Set-Cookie": "idp_session=; Path=/; Max-Age=0"}
        target = params.get("post_logout_redirect_uri")
        client = self.state.clients.get(params.get("client_id", ""))
        if target and client and target in client.get("post_logout_redirect_uris", []):
            return self._redirect(target, clear)
        self._html(200, "<h1>You are signed out of the test identity provider</h1>", clear)

    # --- control ---------------------------------------------------------------------------------
    def _authorized_control(self) -> bool:
        return secrets.compare_digest(self.headers.get("X-Control-Token", ""), self.state.control_token)

    def control(self):
        if not self._authorized_control():
            return self._json(403, {"error": "forbidden"})
        body = self._form()
        with self.state.lock:
            self.state.clients.update(body.get("clients", {}))
            for username, fields in body.get("users", {}).items():
                defaults = {"sub": f"sub-{username}", "password": "pw", "email": f"{username}@example.org"}
                self.state.users[username] = {**defaults, **self.state.users.get(username, {}), **fields}
            if "overrides" in body:
                self.state.overrides = body["overrides"]
        self._json(200, {"ok": True})

    def control_log(self):
        if not self._authorized_control():
            return self._json(403, {"error": "forbidden"})
        self._json(200, self.state.log)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-token", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    state = State(args.control_token)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), type("BoundHandler", (Handler,), {"state": state}))
    state.issuer = f"http://127.0.0.1:{server.server_port}"
    print(f"LISTENING {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
