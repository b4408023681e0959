"""`flask connect`: the one-time sign-in to a platform, with a loopback redirect.

* YouTube: Google's installed-app flow (google-auth-oauthlib), scopes
  youtube.upload and youtube.readonly (the second only to say "as whom").
* TikTok: Login Kit for Desktop with PKCE (its code_challenge is the hex
  SHA-256 of the verifier, as TikTok's desktop guide says); the redirect is
  http://127.0.0.1:<port>/callback/ (register http://127.0.0.1:*/callback/).

The tokens are stored by ``Accounts`` (mode 0600); nothing prints them."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from reelsmith.core.exceptions import ConfigError, NotConnected
from reelsmith.core.settings import Settings
from reelsmith.publish.accounts import GOOGLE_TOKEN_URI, YOUTUBE_SCOPES, Accounts
from reelsmith.publish.tiktok import TikTok, tokens
from reelsmith.publish.transfer import json_of, send

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TIKTOK_AUTH_URI = "https://www.tiktok.com/v2/auth/authorize/"
TIKTOK_SCOPES = "user.info.basic,video.upload,video.publish"
DONE_PAGE = b"<p>Reelsmith is connected. You can close this tab.</p>"


def connect_youtube(
    settings: Settings,
    accounts: Accounts,
    *,
    open_browser=True,
    port=0,
    say=print,
    token_uri: str = GOOGLE_TOKEN_URI,
) -> str | None:
    """Sign in with Google; store the refresh token; return the channel's name."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    from reelsmith.publish.youtube import YouTube

    config = settings.publish
    if not (config.youtube_client_id and config.youtube_client_secret):
        raise ConfigError(
            "YOUTUBE_CLIENT_ID",
            "set YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET (a Google OAuth client of type Desktop app)",
        )
    client = {
        "installed": {
            "client_id": config.youtube_client_id,
            "client_secret": config.youtube_client_secret,
            "auth_uri": GOOGLE_AUTH_URI,
            "token_uri": token_uri,
            "redirect_uris": ["http://127.0.0.1"],
        }
    }
    flow = InstalledAppFlow.from_client_config(client, scopes=list(YOUTUBE_SCOPES))
    creds = flow.run_local_server(
        host="127.0.0.1",
        port=port,
        open_browser=open_browser,
        authorization_prompt_message="Sign in to YouTube in your browser: {url}",
        success_message="Reelsmith is connected. You can close this tab.",
        access_type="offline",
        prompt="consent",
    )
    data = json.loads(creds.to_json())
    accounts.save("youtube", data)
    name, _ = accounts.who("youtube", YouTube(settings, accounts).whoami)
    accounts.save("youtube", {**data, "account": name})
    return name


class _Callback(BaseHTTPRequestHandler):
    """Receives the one redirect of the sign-in and keeps its query."""

    query: dict = {}

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") != "/callback":
            self.send_error(404)
            return
        type(self).query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(DONE_PAGE)))
        self.end_headers()
        self.wfile.write(DONE_PAGE)

    def log_message(self, *args):
        pass  # the query holds the code


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge): TikTok's desktop flow wants the hex SHA-256."""
    verifier = secrets.token_urlsafe(48)[:64]
    return verifier, hashlib.sha256(verifier.encode()).hexdigest()


def connect_tiktok(
    settings: Settings, accounts: Accounts, *, open_browser=True, port=0, say=print, timeout=300.0
) -> str | None:
    """Sign in with TikTok (PKCE); store the tokens; return the display name."""
    config = settings.publish
    if not (config.tiktok_client_key and config.tiktok_client_secret):
        raise ConfigError(
            "TIKTOK_CLIENT_KEY", "set TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (your TikTok app)"
        )
    handler = type("Callback", (_Callback,), {"query": {}})
    server = HTTPServer(("127.0.0.1", port), handler)
    redirect = f"http://127.0.0.1:{server.server_address[1]}/callback/"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    url = (
        TIKTOK_AUTH_URI
        + "?"
        + urlencode(
            {
                "client_key": config.tiktok_client_key,
                "scope": TIKTOK_SCOPES,
                "response_type": "code",
                "redirect_uri": redirect,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    say(f"Sign in to TikTok in your browser: {url}")
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    server.timeout = timeout
    try:
        server.handle_request()
    finally:
        server.server_close()
    query = handler.query
    if query.get("state") != state or "code" not in query:
        raise NotConnected(
            f"TikTok sign-in did not finish ({query.get('error') or 'no answer'})",
            platform="tiktok",
            reason=query.get("error") or "no_code",
        )
    platform = TikTok(settings, accounts)
    response = send(
        platform.http,
        "POST",
        f"{platform.api}/v2/oauth/token/",
        "tiktok",
        data={
            "client_key": config.tiktok_client_key,
            "client_secret": config.tiktok_client_secret,
            "code": query["code"],
            "grant_type": "authorization_code",
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    )
    data = json_of(response)
    if "access_token" not in data:
        raise NotConnected(
            f"TikTok refused the sign-in ({data.get('error') or response.status_code}: "
            f"{data.get('error_description') or ''})",
            platform="tiktok",
            reason=str(data.get("error") or "token"),
        )
    stored = tokens(data)
    accounts.save("tiktok", stored)
    name, _ = accounts.who("tiktok", platform.whoami)
    accounts.save("tiktok", {**stored, "account": name})
    return name


CONNECT = {"youtube": connect_youtube, "tiktok": connect_tiktok}  # one line per platform
