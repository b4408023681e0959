"""The web layer on an app: the security hooks, then every blueprint.

* ``page``: the form (GET /);
* ``tasks``: create, follow, list, cancel; the server's status;
* ``media``: a finished task's video, subtitles and thumbnail;
* ``storyboard``: the scenes before the render, their thumbnails, approving a review;
* ``revise``: a new video from a finished one with edited scenes;
* ``studio``: voices, a voice's clip, a caption preview;
* ``music``: the bundled music tracks and a track to listen to;
* ``publish``: publishing a finished video to YouTube or TikTok; the accounts;
* ``openapi``: the document that describes them all;
* ``errors``: every /api/ error as JSON.
"""

from __future__ import annotations

from flask import Flask

from reelsmith.web import (
    errors,
    media,
    music,
    openapi,
    page,
    publish,
    revise,
    security,
    storyboard,
    studio,
    tasks_api,
)


def register_web(app: Flask) -> None:
    security.install(app)  # first: a refused Host or token goes no further
    modules = (errors, page, tasks_api, storyboard, revise, media, studio, music, publish, openapi)
    for module in modules:
        app.register_blueprint(module.bp)
