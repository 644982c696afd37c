"""Prints an end-user access token for the /my/** Access Requests operations.

Used by tests/schemathesis/run.sh: the `my` operations accept only user tokens, so this gets one
the way a real client does. With the SSWS Super Admin token it creates a web app, grants it the
`my` scopes and assigns it a demo user who has an open approval task; then, as that user, it runs
the authorization-code flow with PKCE S256 through the real sign-in form (hidden CSRF field and
cookie) and exchanges the code at /oauth2/v1/token.

    python3 user_token.py URL SSWS_TOKEN
"""

import base64
import hashlib
import html.parser
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

URL, SSWS = sys.argv[1], sys.argv[2]
DEMO_PASSWORD = "DemoPassw0rd!"
REDIRECT_URI = "http://127.0.0.1/schemathesis/callback"
MY_SCOPES = [
    "okta.accessRequests.catalog.read",
    "okta.accessRequests.request.read",
    "okta.accessRequests.request.manage",
    "okta.accessRequests.tasks.read",
    "okta.accessRequests.tasks.manage",
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Keeps cookies, never follows redirects (one hop at a time, like the compat suite)."""

    def __init__(self):
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, method, url, form=None, headers=None):
        url = urllib.parse.urljoin(URL, url)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            res = self.opener.open(req)
        except urllib.error.HTTPError as e:
            res = e
        for c in res.headers.get_all("Set-Cookie") or []:
            name, _, value = c.split(";")[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return res.status, res.headers, res.read().decode()


class Inputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.action = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        if tag == "form" and self.action is None:
            self.action = a.get("action")


def admin(method, path, body=None, ok=(200, 201)):
    req = urllib.request.Request(
        URL + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"SSWS {SSWS}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        assert r.status in ok, (method, path, r.status)
        data = r.read()
        return json.loads(data) if data else None


def main():
    tasks = admin("GET", "/governance/api/v2/tasks?limit=1")["data"]
    assert tasks, "the demo org has an open approval task"
    user_id = tasks[0]["assignees"][0]["externalId"]
    login = admin("GET", f"/api/v1/users/{user_id}")["profile"]["login"]

    app = admin("POST", "/api/v1/apps", {
        "label": "Schemathesis end user",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {
            "application_type": "web",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": [REDIRECT_URI],
            "consent_method": "TRUSTED",
        }},
    })
    client_id = app["credentials"]["oauthClient"]["client_id"]
    client_secret = app["credentials"]["oauthClient"]["client_secret"]
    admin("POST", f"/api/v1/apps/{app['id']}/users", {"id": user_id, "scope": "USER"})
    for scope in MY_SCOPES:
        admin("POST", f"/api/v1/apps/{app['id']}/grants", {"scopeId": scope, "issuer": URL}, ok=(201,))

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    authorize = "/oauth2/v1/authorize?" + urllib.parse.urlencode({
        "client_id": client_id, "response_type": "code", "redirect_uri": REDIRECT_URI,
        "scope": " ".join(["openid"] + MY_SCOPES), "state": state,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    b = Browser()
    status, headers, body = b.request("GET", authorize)
    for _ in range(10):
        if 300 <= status < 400:
            location = urllib.parse.urljoin(URL, headers["Location"])
            if location.startswith(REDIRECT_URI):
                break
            status, headers, body = b.request("GET", location)
            continue
        assert status == 200, (status, body[:400])
        page = Inputs()
        page.feed(body)
        assert "password" in page.fields and page.fields.get("csrf"), body[:400]
        status, headers, body = b.request("POST", page.action or "/login", {
            "csrf": page.fields["csrf"], "return_to": page.fields.get("return_to", ""),
            "username": login, "password": DEMO_PASSWORD,
        })
        # Signed in means redirected back to the authorization request; a page means refused
        # (stop here rather than retry into the lockout).
        assert 300 <= status < 400, f"sign-in as {login} refused: {status} {body[:400]}"
    else:
        raise SystemExit("too many hops before the redirect back to the client")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert query.get("state") == [state], location
    assert "code" in query, f"the authorization request failed: {location}"
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    status, _, body = b.request("POST", "/oauth2/v1/token", {
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    }, headers={"Authorization": f"Basic {basic}", "Accept": "application/json"})
    assert status == 200, body
    token = json.loads(body)
    granted = set(token["scope"].split())
    assert set(MY_SCOPES) <= granted, token["scope"]
    print(token["access_token"])


main()
