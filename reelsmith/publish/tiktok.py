"""TikTok's Content Posting API over httpx: by default a draft in the creator's
inbox (``/v2/post/publish/inbox/video/init/``, allowed for unaudited apps);
a direct post (``/v2/post/publish/video/init/``) only when asked. The video goes
up as ``FILE_UPLOAD`` chunks with ``Content-Range``; then the status is polled
until TikTok sends it to the inbox (``SEND_TO_USER_INBOX``) or posts it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from reelsmith.core.exceptions import PublishError, UploadInterrupted
from reelsmith.core.settings import Settings
from reelsmith.publish.accounts import Accounts
from reelsmith.publish.errors import tiktok_error
from reelsmith.publish.store import Publication
from reelsmith.publish.transfer import LOOKUP_TIMEOUT, Backoff, client, json_of, pieces, send

MB = 1024 * 1024
MIN_CHUNK, MAX_CHUNK = 5 * MB, 64 * MB  # TikTok's bounds; a smaller video is one chunk
PRIVACY_LEVELS = {
    "private": "SELF_ONLY",
    "unlisted": "MUTUAL_FOLLOW_FRIENDS",
    "public": "PUBLIC_TO_EVERYONE",
}
DONE = {"SEND_TO_USER_INBOX", "PUBLISH_COMPLETE"}
POLLS = 120  # status checks before giving up (with the backoff's first wait between)


def chunk_plan(size: int, chunk_mb: float) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) as TikTok wants them: chunks of 5 to 64 MB,
    the last one taking the rest; under 5 MB, the whole file at once."""
    if size < MIN_CHUNK:
        return size, 1
    chunk = min(max(int(chunk_mb * MB), MIN_CHUNK), MAX_CHUNK, size)
    return chunk, size // chunk


class TikTok:
    name = "tiktok"

    def __init__(self, settings: Settings, accounts: Accounts, sleep=time.sleep):
        self.settings = settings.publish
        self.api = self.settings.tiktok_api_url.rstrip("/")
        self.accounts = accounts
        self.sleep = sleep
        self.http = client(self.settings)

    def refresh_token(self, refresh_token: str) -> dict:
        """New tokens for a stored refresh token (TikTok's token endpoint)."""
        response = send(
            self.http,
            "POST",
            f"{self.api}/v2/oauth/token/",
            self.name,
            data={
                "client_key": self.settings.tiktok_client_key or "",
                "client_secret": self.settings.tiktok_client_secret or "",
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )
        data = json_of(response)
        if "access_token" not in data:
            raise tiktok_error(
                str(data.get("error") or "invalid_grant"),
                str(data.get("error_description") or "refresh failed"),
            )
        return tokens(data)

    def _api(self, path: str, body: dict) -> dict:
        """A POST to the API, tried again after a 5xx or a dropped connection;
        TikTok's ``error.code`` (sometimes with HTTP 200) raises."""
        backoff = Backoff(self.settings, self.sleep)
        while True:
            try:
                return self._api_once(path, body)
            except UploadInterrupted as exc:
                backoff.wait(exc)

    def _api_once(self, path: str, body: dict) -> dict:
        token = self.accounts.tiktok_token(self.refresh_token)
        response = send(
            self.http,
            "POST",
            f"{self.api}{path}",
            self.name,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        data = json_of(response)
        error = data.get("error") or {}
        code = error.get("code") or (
            "ok" if response.status_code == 200 else f"http_{response.status_code}"
        )
        if code != "ok" or response.status_code >= 400:
            raise tiktok_error(code, error.get("message") or f"HTTP {response.status_code}")
        return data.get("data") or {}

    def whoami(self) -> str | None:
        token = self.accounts.tiktok_token(self.refresh_token)
        response = send(
            self.http,
            "GET",
            f"{self.api}/v2/user/info/",
            self.name,
            params={"fields": "open_id,display_name"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=LOOKUP_TIMEOUT,  # "as whom" must not hold a publication up
        )
        data = json_of(response)
        code = (data.get("error") or {}).get("code", "ok")
        if code != "ok" or response.status_code >= 400:
            raise tiktok_error(code, (data.get("error") or {}).get("message") or "lookup failed")
        return ((data.get("data") or {}).get("user") or {}).get("display_name")

    def publish(
        self, pub: Publication, video: Path, thumbnail: Path | None, save: Callable
    ) -> dict:
        """Upload ``video`` (from the start: TikTok's upload URLs cannot say how much
        they hold) and wait until TikTok has it. Returns url, remote_id, notes."""
        notes: list[str] = []
        publish_id = pub.session.get("publish_id")
        if publish_id and pub.session.get("uploaded"):
            notes.append("resumed: waiting for TikTok to finish the upload sent before the restart")
        else:
            publish_id = self._upload(pub, video, save, notes)
        data = self._wait(publish_id, save)
        post_ids = data.get("publicaly_available_post_id") or []  # TikTok's spelling
        url = f"https://www.tiktok.com/video/{post_ids[0]}" if post_ids else None
        if data["status"] == "SEND_TO_USER_INBOX":
            notes.append("sent to the creator's TikTok inbox as a draft: open TikTok to post it")
        return {"url": url, "remote_id": publish_id, "notes": notes}

    def _upload(self, pub: Publication, video: Path, save, notes) -> str:
        size = video.stat().st_size
        chunk, count = chunk_plan(size, self.settings.publish_chunk_mb)
        source = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count,
        }
        if pub.request.get("direct"):
            title = pub.request.get("title") or pub.meta.get("title") or ""
            body = {
                "post_info": {
                    "title": title[:2200],
                    "privacy_level": PRIVACY_LEVELS[pub.request.get("privacy", "private")],
                    "is_aigc": True,  # the video is AI-made
                },
                "source_info": source,
            }
            init = self._api("/v2/post/publish/video/init/", body)
        else:
            init = self._api("/v2/post/publish/inbox/video/init/", {"source_info": source})
        publish_id, upload_url = init["publish_id"], init["upload_url"]
        save(session={"publish_id": publish_id})
        backoff = Backoff(self.settings, self.sleep)
        for index in range(count):
            start = index * chunk
            end = size if index == count - 1 else start + chunk
            while True:
                try:
                    response = send(
                        self.http,
                        "PUT",
                        upload_url,
                        self.name,
                        content=pieces(video, start, end),
                        headers={
                            "Content-Type": "video/mp4",
                            "Content-Length": str(end - start),
                            "Content-Range": f"bytes {start}-{end - 1}/{size}",
                        },
                    )
                    break
                except UploadInterrupted as exc:
                    backoff.wait(exc)  # the same chunk again
            if response.status_code not in (200, 201, 206):
                error = json_of(response).get("error") or {}
                raise tiktok_error(
                    error.get("code") or f"http_{response.status_code}",
                    error.get("message") or "chunk refused",
                )
            backoff.succeeded()
            save(progress=round(end / size * 0.95, 4))
        if backoff.resumed:
            notes.append(f"a chunk was sent again {backoff.resumed} time(s) after an interruption")
        save(session={"publish_id": publish_id, "uploaded": True})
        return publish_id

    def _wait(self, publish_id: str, save) -> dict:
        for _ in range(POLLS):
            data = self._api("/v2/post/publish/status/fetch/", {"publish_id": publish_id})
            status = data.get("status")
            if status in DONE:
                return data
            if status == "FAILED":
                raise tiktok_error(
                    data.get("fail_reason") or "failed", "TikTok could not process the video"
                )
            self.sleep(max(self.settings.publish_backoff, 0.0))
        raise PublishError(
            f"TikTok was still processing the video after {POLLS} checks",
            platform=self.name,
            reason="timeout",
        )


def tokens(data: dict) -> dict:
    """What is stored of a TikTok token answer (expiries as times)."""
    now = time.time()
    return {
        "access_token": data["access_token"],
        "refresh_token": data.get("refresh_token"),
        "open_id": data.get("open_id"),
        "scope": data.get("scope"),
        "expires_at": now + float(data.get("expires_in") or 86400),
        "refresh_expires_at": now + float(data.get("refresh_expires_in") or 365 * 86400),
    }
