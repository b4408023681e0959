"""Pexels: stock clips and photos (``PEXELS_API_KEY``)."""

from __future__ import annotations

from reelsmith.visuals.sources.base import Context, url_suffix
from reelsmith.visuals.sources.stock import Stock, smallest_sharp


class Pexels(Stock):
    name = "pexels"
    key = "PEXELS_API_KEY"

    def missing(self) -> str | None:
        return None if self.settings.visuals.pexels_api_key else "no PEXELS_API_KEY"

    def search(self, what: str, query: str, ctx: Context) -> list[dict]:
        base = self.settings.visuals.pexels_base_url.rstrip("/")
        headers = {"Authorization": self.settings.visuals.pexels_api_key}
        params = {"query": query, "orientation": ctx.orientation, "per_page": 10}
        if what == "video":
            found = []
            for video in self.get_json(f"{base}/videos/search", params, headers).get("videos", []):
                files = [
                    f
                    for f in video.get("video_files", [])
                    if f.get("file_type") == "video/mp4" and f.get("link")
                ]
                if files:
                    f = smallest_sharp(files, lambda f: (f.get("width") or 0, f.get("height") or 0))
                    found.append(
                        {
                            "id": f"pexels:video:{video.get('id')}",
                            "url": f["link"],
                            "suffix": ".mp4",
                            "width": video.get("width") or f.get("width") or 0,
                            "height": video.get("height") or f.get("height") or 0,
                            "duration": float(video.get("duration") or 0),
                        }
                    )
            return found
        found = []
        for photo in self.get_json(f"{base}/v1/search", params, headers).get("photos", []):
            src = photo.get("src", {})
            link = src.get(ctx.orientation) or src.get("large2x") or src.get("original")
            if link:
                found.append(
                    {
                        "id": f"pexels:photo:{photo.get('id')}",
                        "url": link,
                        "suffix": url_suffix(link, ".jpg"),
                        "width": photo.get("width") or 0,
                        "height": photo.get("height") or 0,
                        "duration": 0.0,
                    }
                )
        return found
