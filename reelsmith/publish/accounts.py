"""The connected accounts: tokens stored in DATA_DIR/accounts/ (mode 0600), or
given in the environment (YOUTUBE_CREDENTIALS, TIKTOK_ACCESS_TOKEN), which win.

"As whom" is the name saved when connecting, else asked of the platform once;
a failed lookup says so and never stops a publication."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from reelsmith.core.exceptions import NotConnected, PublishError
from reelsmith.core.settings import Settings
from reelsmith.publish.errors import connect_command

log = logging.getLogger("reelsmith.publish")

YOUTUBE_SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",  # only for "as whom"
)
TOKEN_MODE = 0o600
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def write_private(path: Path, data: dict) -> None:
    """Write ``data`` as JSON readable by this user only, all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.chmod(tmp, TOKEN_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Accounts:
    def __init__(self, settings: Settings):
        self.settings = settings.publish
        self.folder = Path(settings.storage.data_dir) / "accounts"
        self._names: dict[str, str] = {}  # looked-up names of environment tokens
        self._lock = threading.Lock()
        self._env_youtube = None  # YOUTUBE_CREDENTIALS, once read (and refreshed)

    def path(self, platform: str) -> Path:
        return self.folder / f"{platform}.json"

    def save(self, platform: str, data: dict) -> None:
        write_private(self.path(platform), data)

    def stored(self, platform: str) -> dict | None:
        try:
            return json.loads(self.path(platform).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def source(self, platform: str) -> str | None:
        """Where the token comes from: "environment", "stored", or None."""
        from_env = {
            "youtube": self.settings.youtube_credentials,
            "tiktok": self.settings.tiktok_access_token,
        }[platform]
        if from_env:
            return "environment"
        return "stored" if self.stored(platform) else None

    # -- YouTube -------------------------------------------------------------
    def youtube_credentials(self):
        """google-auth Credentials, refreshed when expired; NotConnected without."""
        from google.oauth2.credentials import Credentials

        raw = self.settings.youtube_credentials
        if raw and self._env_youtube is not None and self._env_youtube.valid:
            return self._env_youtube  # refreshed in memory: the environment's JSON stays as is
        if raw:
            text = raw if raw.lstrip().startswith("{") else Path(raw).read_text(encoding="utf-8")
            info = json.loads(text)
        else:
            info = self.stored("youtube")
        if not info:
            raise NotConnected(
                f"YouTube is not connected: run `{connect_command('youtube')}`",
                platform="youtube",
                reason="not_connected",
            )
        expiry = info.get("expiry")
        creds = Credentials(  # not from_authorized_user_info: it ignores the JSON's token_uri
            token=info.get("token"),
            refresh_token=info.get("refresh_token"),
            token_uri=info.get("token_uri") or GOOGLE_TOKEN_URI,
            client_id=info.get("client_id"),
            client_secret=info.get("client_secret"),
            scopes=info.get("scopes"),
            expiry=datetime.strptime(expiry.rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
            if expiry
            else None,
        )
        if raw:
            self._env_youtube = creds
        if not creds.valid:
            self.refresh_youtube(creds)
        return creds

    def refresh_youtube(self, creds) -> None:
        """A new access token from the refresh token (Google's token endpoint)."""
        import google.auth.exceptions
        import google.auth.transport.requests
        import requests

        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace SSL_CERT_FILE
        if self.settings.ssl_cert_file:
            session.verify = str(self.settings.ssl_cert_file)
        try:
            creds.refresh(google.auth.transport.requests.Request(session))
        except google.auth.exceptions.RefreshError as exc:
            reason = (
                exc.args[1].get("error")
                if len(exc.args) > 1 and isinstance(exc.args[1], dict)
                else None
            )
            raise NotConnected(
                f"YouTube refused the token ({reason or 'refresh failed'}): it was revoked or "
                f"has expired. Connect again with `{connect_command('youtube')}`.",
                platform="youtube",
                reason=reason or "refresh_failed",
            ) from None
        except google.auth.exceptions.TransportError as exc:
            log.info("token refresh failed: %s", exc)
            raise PublishError(
                f"Google's token endpoint could not be reached ({type(exc).__name__})",
                platform="youtube",
                reason="token_endpoint",
            ) from None
        finally:
            session.close()
        if not self.settings.youtube_credentials and self.stored("youtube"):
            account = (self.stored("youtube") or {}).get("account")
            self.save("youtube", {**json.loads(creds.to_json()), "account": account})

    # -- TikTok --------------------------------------------------------------
    def tiktok_token(self, refresh=None) -> str:
        """The access token; a stored one past its expiry is refreshed with ``refresh``
        (tiktok.refresh_token's signature) first."""
        if self.settings.tiktok_access_token:
            return self.settings.tiktok_access_token
        data = self.stored("tiktok")
        if not data or not data.get("access_token"):
            raise NotConnected(
                f"TikTok is not connected: run `{connect_command('tiktok')}`",
                platform="tiktok",
                reason="not_connected",
            )
        if refresh and data.get("expires_at", float("inf")) < time.time() + 60:
            with self._lock:
                data = {**data, **refresh(data["refresh_token"])}
                self.save("tiktok", data)
        return data["access_token"]

    # -- As whom -------------------------------------------------------------
    def who(self, platform: str, lookup) -> tuple[str | None, str | None]:
        """(account name, or None; why not, or None). The name saved when
        connecting, else ``lookup()`` once; never raises."""
        stored = (self.stored(platform) or {}).get("account")
        if self.source(platform) == "stored" and stored:
            return stored, None
        if platform in self._names:
            return self._names[platform], None
        try:
            name = lookup()
        except Exception as exc:  # noqa: BLE001 - a lookup must never stop a publication
            why = getattr(exc, "message", None) or type(exc).__name__
            log.info("could not tell which %s account is connected: %s", platform, why)
            return None, why
        if name:
            self._names[platform] = name
        return name, None

    def status(self, lookups: dict) -> list[dict]:
        """Each platform: connected or not, where from, and as whom."""
        rows = []
        for platform, lookup in lookups.items():
            source = self.source(platform)
            row = {"platform": platform, "connected": source is not None, "source": source}
            row["account"], why = self.who(platform, lookup) if source else (None, None)
            if why:
                row["lookup_error"] = why
            if not source:
                row["connect"] = connect_command(platform)
            rows.append(row)
        return rows
