"""YouTube Data API v3 over httpx: a resumable ``videos.insert`` sent in chunks
(resumed from the server's ``Range`` after a 5xx or a dropped connection, with
exponential backoff), then ``thumbnails.set``.

Why httpx and not google-api-python-client: the upload streams each chunk from
the file in 1 MB pieces (memory stays flat for any size), httpx is already a
dependency and trusts SSL_CERT_FILE, and the resumable protocol is four kinds of
request. google-auth still does the OAuth (credentials, refresh)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from reelsmith.core.exceptions import UploadInterrupted
from reelsmith.core.settings import Settings
from reelsmith.publish.accounts import Accounts
from reelsmith.publish.errors import LOCKED_PRIVATE, youtube_error
from reelsmith.publish.store import Publication
from reelsmith.publish.transfer import LOOKUP_TIMEOUT, Backoff, client, json_of, pieces, send

UNIT = 256 * 1024  # YouTube takes chunks in multiples of 256 KiB
CATEGORY_PEOPLE_AND_BLOGS = "22"


def chunk_bytes(mb: float) -> int:
    return max(UNIT, int(mb * 1024 * 1024) // UNIT * UNIT)


def next_offset(range_header: str | None) -> int:
    """The first byte the server does not have, from ``Range: bytes=0-N``."""
    if not range_header:
        return 0
    return int(range_header.rsplit("-", 1)[1]) + 1


def video_body(pub: Publication) -> dict:
    """The snippet and status of the upload, from the request and the video's result."""
    req, meta = pub.request, pub.meta
    hashtags = [str(h).lstrip("#") for h in meta.get("hashtags") or [] if str(h).strip("#")]
    title = req.get("title") or meta.get("title") or "Untitled"
    description = req.get("description")
    if description is None:
        parts = [meta.get("description") or "", " ".join(f"#{h}" for h in hashtags)]
        description = "\n\n".join(p for p in parts if p)
    status = {
        # a scheduled video is private until publishAt (YouTube's rule)
        "privacyStatus": "private" if req.get("publish_at") else req.get("privacy", "private"),
        "selfDeclaredMadeForKids": bool(req["made_for_kids"]),
        "containsSyntheticMedia": True,  # the video is AI-made
    }
    if req.get("publish_at"):
        status["publishAt"] = req["publish_at"]
    snippet = {
        "title": title.replace("<", "").replace(">", "")[:100],
        "description": description.replace("<", "").replace(">", "")[:5000],
        "tags": req["tags"] if req.get("tags") is not None else hashtags,
        "categoryId": CATEGORY_PEOPLE_AND_BLOGS,
    }
    return {"snippet": snippet, "status": status}


class YouTube:
    name = "youtube"

    def __init__(self, settings: Settings, accounts: Accounts, sleep=time.sleep):
        self.settings = settings.publish
        self.api = self.settings.youtube_api_url.rstrip("/")
        self.accounts = accounts
        self.sleep = sleep
        self.http = client(self.settings)

    # -- requests ---------------------------------------------------------------
    def _call(self, method: str, url: str, *, ok=(200, 201), **kwargs):
        """An authorized request; a 401 refreshes the token once and tries again."""
        creds = self.accounts.youtube_credentials()
        for attempt in (1, 2):
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {creds.token}"}
            response = send(self.http, method, url, self.name, headers=headers, **kwargs)
            if response.status_code != 401 or attempt == 2 or not creds.refresh_token:
                break
            self.accounts.refresh_youtube(creds)
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
        if response.status_code not in ok:
            raise youtube_error(response.status_code, json_of(response))
        return response

    def whoami(self) -> str | None:
        response = self._call(
            "GET",
            f"{self.api}/youtube/v3/channels",
            params={"part": "snippet", "mine": "true"},
            timeout=LOOKUP_TIMEOUT,  # "as whom" must not hold a publication up
        )
        items = json_of(response).get("items") or []
        return items[0]["snippet"]["title"] if items else None

    def _start(self, pub: Publication, size: int) -> str:
        response = self._call(
            "POST",
            f"{self.api}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=video_body(pub),
            headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": "video/mp4"},
        )
        return response.headers["Location"]

    def _put(self, url: str, headers: dict, content=b"") -> tuple[int | None, dict | None]:
        """(next offset, None) while incomplete; (None, video) once done; (None, None)
        when the session expired."""
        response = self._call(
            "PUT", url, ok=(200, 201, 308, 404, 410), headers=headers, content=content
        )
        if response.status_code == 308:
            return next_offset(response.headers.get("Range")), None
        if response.status_code in (404, 410):
            return None, None
        return None, json_of(response)

    # -- publishing -------------------------------------------------------------
    def publish(
        self, pub: Publication, video: Path, thumbnail: Path | None, save: Callable
    ) -> dict:
        """Upload (or resume) ``video``; set the thumbnail. Returns url, remote_id, notes."""
        notes: list[str] = []
        session = dict(pub.session)
        video_id = session.get("video_id")
        if not video_id:
            resource = self._upload(pub, video, session, save, notes)
            video_id = resource["id"]
            session["video_id"] = video_id
            save(session=session, remote_id=video_id, progress=1.0)
            status = resource.get("status") or {}
            wanted = video_body(pub)["status"]["privacyStatus"]
            if wanted != "private" and status.get("privacyStatus") == "private":
                notes.append(LOCKED_PRIVATE)
        if thumbnail and thumbnail.is_file() and not session.get("thumbnail"):
            try:
                self._call(
                    "POST",
                    f"{self.api}/upload/youtube/v3/thumbnails/set",
                    params={"videoId": video_id},
                    content=thumbnail.read_bytes(),
                    headers={"Content-Type": "image/jpeg"},
                )
                session["thumbnail"] = True
                save(session=session)
            except Exception as exc:  # noqa: BLE001 - the video is up; say what went wrong
                notes.append(f"the thumbnail was not set: {getattr(exc, 'message', exc)}")
        return {
            "url": f"https://www.youtube.com/watch?v={video_id}",
            "remote_id": video_id,
            "notes": notes,
        }

    def _upload(self, pub, video: Path, session: dict, save, notes: list[str]) -> dict:
        size = video.stat().st_size
        chunk = chunk_bytes(self.settings.publish_chunk_mb)
        backoff = Backoff(self.settings, self.sleep)
        url = session.get("upload_url") if session.get("size") == size else None
        offset = None if url else 0  # None: ask the server where to resume
        while True:
            try:
                if url is None:
                    url = self._start(pub, size)
                    session.update(upload_url=url, size=size)
                    save(session=session)
                    offset = 0
                if offset is None:
                    offset, done = self._put(url, {"Content-Range": f"bytes */{size}"})
                    if done:
                        break
                    if offset is None:  # the session expired: a new one, from the start
                        notes.append("the upload session had expired; the upload started again")
                        url = None
                        continue
                end = min(offset + chunk, size)
                headers = {
                    "Content-Type": "video/mp4",
                    "Content-Length": str(end - offset),
                    "Content-Range": f"bytes {offset}-{end - 1}/{size}",
                }
                offset, done = self._put(url, headers, pieces(video, offset, end))
                if done:
                    break
                if offset is None:
                    url = None
                    continue
                backoff.succeeded()
                save(progress=round(offset / size, 4))
            except UploadInterrupted as exc:
                backoff.wait(exc)
                offset = None
        if backoff.resumed:
            notes.append(f"the upload was interrupted {backoff.resumed} time(s) and resumed")
        return done
