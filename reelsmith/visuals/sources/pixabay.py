"""Pixabay: stock clips and photos (``PIXABAY_API_KEY``)."""

from __future__ import annotations

from reelsmith.visuals.sources.base import Context, url_suffix
from reelsmith.visuals.sources.stock import Stock, smallest_sharp


class Pixabay(Stock):
    name = "pixabay"
    key = "PIXABAY_API_KEY"

    def missing(self) -> str | None:
        return None if self.settings.visuals.pixabay_api_key else "no PIXABAY_API_KEY"

    def search(self, what: str, query: str, ctx: Context) -> list[dict]:
        base = self.settings.visuals.pixabay_base_url.rstrip("/")
        params = {
            "key": self.settings.visuals.pixabay_api_key,
            "q": query[:100],
            "per_page": 20,
            "safesearch": "true",
        }
        if what == "video":
            found = []
            for hit in self.get_json(f"{base}/api/videos/", params).get("hits", []):
                files = [f for f in (hit.get("videos") or {}).values() if f.get("url")]
                if files:
                    f = smallest_sharp(files, lambda f: (f.get("width") or 0, f.get("height") or 0))
                    found.append(
                        {
                            "id": f"pixabay:video:{hit.get('id')}",
                            "url": f["url"],
                            "suffix": ".mp4",
                            "width": f.get("width") or 0,
                            "height": f.get("height") or 0,
                            "duration": float(hit.get("duration") or 0),
                        }
                    )
            return found
        params |= {
            "image_type": "photo",
            "orientation": {"portrait": "vertical", "landscape": "horizontal"}.get(
                ctx.orientation, "all"
            ),
        }
        found = []
        for hit in self.get_json(f"{base}/api/", params).get("hits", []):
            link = hit.get("largeImageURL") or hit.get("webformatURL")
            if link:
                found.append(
                    {
                        "id": f"pixabay:photo:{hit.get('id')}",
                        "url": link,
                        "suffix": url_suffix(link, ".jpg"),
                        "width": hit.get("imageWidth") or 0,
                        "height": hit.get("imageHeight") or 0,
                        "duration": 0.0,
                    }
                )
        return found
