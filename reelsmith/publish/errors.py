"""The platforms' refusals, said plainly: one table per platform from its
reason code to our error class and a sentence, with the command to run or the
form to fill in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reelsmith.core.exceptions import NotConnected, PublishError, QuotaExceeded

PACIFIC = ZoneInfo("America/Los_Angeles")
YOUTUBE_AUDIT_FORM = "https://support.google.com/youtube/contact/yt_api_form"
TIKTOK_AUDIT = "https://developers.tiktok.com/doc/content-sharing-guidelines"


def connect_command(platform: str) -> str:
    return f"flask --app app connect {platform}"


def quota_reset(now: datetime | None = None) -> datetime:
    """YouTube's quota resets at midnight Pacific time: the next one after ``now``."""
    now = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PACIFIC)


def _youtube_quota(reason: str, detail: str) -> PublishError:
    reset = quota_reset()
    utc = reset.astimezone(ZoneInfo("UTC"))
    return QuotaExceeded(
        f"YouTube refused the upload: quota exceeded ({reason}: {detail}). A channel can "
        f"upload only a few videos a day through the API; the quota resets at midnight "
        f"Pacific time ({reset:%Y-%m-%d %H:%M %Z}, {utc:%H:%M} UTC).",
        platform="youtube",
        reason=reason,
    )


def _revoked(platform: str, reason: str, detail: str) -> PublishError:
    return NotConnected(
        f"{platform.capitalize()} refused the token ({reason}: {detail}): it was revoked or "
        f"has expired. Connect again with `{connect_command(platform)}`.",
        platform=platform,
        reason=reason,
    )


YOUTUBE_REASONS = {
    "quotaExceeded": _youtube_quota,
    "uploadLimitExceeded": _youtube_quota,
    "dailyLimitExceeded": _youtube_quota,
    "authError": lambda r, d: _revoked("youtube", r, d),
    "unauthorized": lambda r, d: _revoked("youtube", r, d),
    "invalid_grant": lambda r, d: _revoked("youtube", r, d),
    "insufficientPermissions": lambda r, d: NotConnected(
        f"YouTube says the token may not upload ({r}: {d}). Connect again with "
        f"`{connect_command('youtube')}` and allow uploads.",
        platform="youtube",
        reason=r,
    ),
}


def youtube_error(status: int, body) -> PublishError:
    """The error of a YouTube answer ``status`` with JSON ``body``."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # an OAuth token endpoint's answer
        reason, detail = error, str(body.get("error_description") or error)
    else:
        error = error if isinstance(error, dict) else {}
        first = (error.get("errors") or [{}])[0]
        reason = first.get("reason") or error.get("status") or f"HTTP {status}"
        detail = error.get("message") or first.get("message") or f"HTTP {status}"
    make = YOUTUBE_REASONS.get(reason)
    if make is None and status == 401:
        make = YOUTUBE_REASONS["authError"]
    if make is not None:
        return make(reason, detail)
    return PublishError(
        f"YouTube refused the upload ({reason}): {detail}", platform="youtube", reason=reason
    )


LOCKED_PRIVATE = (
    "YouTube locked the video private: uploads from an unverified Google Cloud project "
    "stay private until the project passes an audit. Ask for one with the YouTube API "
    f"audit form: {YOUTUBE_AUDIT_FORM}"
)

TIKTOK_REASONS = {
    "access_token_invalid": lambda r, d: _revoked("tiktok", r, d),
    "invalid_grant": lambda r, d: _revoked("tiktok", r, d),
    "scope_not_authorized": lambda r, d: NotConnected(
        f"TikTok says the token may not post videos ({r}: {d}). Connect again with "
        f"`{connect_command('tiktok')}` and allow video.upload.",
        platform="tiktok",
        reason=r,
    ),
    "rate_limit_exceeded": lambda r, d: QuotaExceeded(
        f"TikTok refused the upload: too many requests ({r}: {d}). Wait a minute and "
        "publish again.",
        platform="tiktok",
        reason=r,
    ),
    "spam_risk_too_many_posts": lambda r, d: QuotaExceeded(
        f"TikTok refused the upload: this creator posted as many videos today as TikTok "
        f"allows through the API ({r}: {d}). The limit counts the last 24 hours.",
        platform="tiktok",
        reason=r,
    ),
    "unaudited_client_can_only_post_to_private_accounts": lambda r, d: PublishError(
        f"TikTok refused the post ({r}): an app TikTok has not audited can post directly "
        "only to a private account. Make the TikTok account private, or publish without "
        f"direct (a draft in the creator's inbox), or have the app audited: {TIKTOK_AUDIT}",
        platform="tiktok",
        reason=r,
    ),
}


def tiktok_error(code: str, detail: str) -> PublishError:
    make = TIKTOK_REASONS.get(code)
    if make is not None:
        return make(code, detail)
    return PublishError(
        f"TikTok refused the upload ({code}): {detail}", platform="tiktok", reason=code
    )
