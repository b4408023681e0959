"""What the web layer, the CLI and the MCP server need of the pipeline.

``app.py`` builds one ``PipelineServices`` and hands it over in
``app.extensions["reelsmith_services"]``, as it hands the task runner to the
task layer; nothing under ``reelsmith.web`` imports the pipeline itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelsmith.captions.style import CaptionStyle
from reelsmith.request import CreateRequest

Reporter = Callable[[str, float], None]  # (stage, fraction done)


@dataclass(frozen=True)
class PipelineServices:
    # Which script writer is in use, for GET /api/status.
    writer_status: Callable[[], dict]
    # (title, sentence, style, (width, height)) -> one still frame as PNG.
    render_preview: Callable[[str, str, CaptionStyle, tuple[int, int]], bytes]
    # (request, output path, report, music bed or None) -> the result, in the foreground.
    run: Callable[[CreateRequest, Path, Reporter, Path | None], dict]
    # (requests, output folder, workers, report, music bed or None) -> a result or
    # the ReelsmithError, per request.
    run_batch: Callable[[list[CreateRequest], Path, int, Reporter, Path | None], list]
    # (request, thumbnails folder) -> the scenes it would render (script and visuals only).
    storyboard: Callable[[CreateRequest, Path], list[dict]] | None = None
