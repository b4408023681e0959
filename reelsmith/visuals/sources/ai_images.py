"""AI images: one picture per sentence from an OpenAI-compatible image
model (``IMAGES_API_KEY`` or ``IMAGES_BASE_URL``)."""

from __future__ import annotations

import base64
from pathlib import Path

from cache import make_key
from reelsmith.core.exceptions import SourceUnavailable
from reelsmith.visuals.sources.base import Context, Downloads, Pick, Wanted, at_once, http_reason
from reelsmith.visuals.sources.files import media_file


class AIImages(Downloads):
    """One image per sentence from its visual prompt, from any
    OpenAI-compatible ``/v1/images/generations`` (the openai SDK over the
    pooled client); ``b64_json`` or ``url`` replies. The stills then move
    with the Ken-Burns zoom."""

    name = "ai"
    key = "IMAGES_API_KEY"
    SIZES = {"portrait": "1024x1536", "landscape": "1536x1024", "square": "1024x1024"}
    DALLE3_SIZES = {"portrait": "1024x1792", "landscape": "1792x1024", "square": "1024x1024"}

    def missing(self) -> str | None:
        s = self.settings
        return (
            None
            if (s.visuals.images_api_key or s.visuals.images_base_url)
            else "no IMAGES_API_KEY or IMAGES_BASE_URL"
        )

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        """``IMAGES_PARALLEL`` requests at a time; once one fails, the
        sentences not yet asked for skip this source with its reason."""
        down = None

        def one(want: Wanted) -> Pick:
            nonlocal down
            if down:
                return Pick(None, down)
            try:
                return Pick(self.image(want.prompt, ctx), f"ai image for {want.prompt[:60]!r}")
            except SourceUnavailable as exc:
                down = f"ai: {exc}"
                return Pick(None, down)

        return at_once(one, wanted, self.settings.visuals.images_parallel, ctx.fetched)

    def image(self, prompt: str, ctx: Context) -> Path:
        s = self.settings
        sizes = self.DALLE3_SIZES if s.visuals.images_model.startswith("dall-e-3") else self.SIZES
        size = sizes[ctx.orientation]
        key = make_key(
            "visuals", "ai", s.visuals.images_base_url, s.visuals.images_model, size, prompt
        )
        return media_file(self.cache, key, None, lambda: self._generate(prompt, size))

    def _generate(self, prompt: str, size: str) -> bytes:
        import openai
        from openai import OpenAI

        s = self.settings
        client = OpenAI(
            api_key=s.visuals.images_api_key or "unused",
            base_url=s.visuals.images_base_url,
            http_client=self._get_http_client(),
            max_retries=0,
            timeout=self.timeout,
        )
        try:
            reply = client.images.generate(
                model=s.visuals.images_model, prompt=prompt, n=1, size=size
            )
        except openai.APITimeoutError as exc:
            raise SourceUnavailable(f"timed out after {self.timeout:g} s") from exc
        except openai.APIStatusError as exc:
            raise SourceUnavailable(http_reason(exc.status_code)) from exc
        except openai.APIError as exc:
            raise SourceUnavailable(f"unreachable ({type(exc).__name__})") from exc
        image = reply.data[0] if reply.data else None
        if image is not None and image.b64_json:
            return base64.b64decode(image.b64_json)
        if image is not None and image.url:
            return self.download(image.url)
        raise SourceUnavailable("the reply had no image")
