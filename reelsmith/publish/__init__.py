"""Publishing a finished video to YouTube and TikTok, through their official APIs.

Nothing is published unless asked: ``POST /api/task/<id>/publish``, ``flask
publish`` or the MCP tool ``publish_video`` each add one ``Publication``
(store.py) that the ``Publisher`` (runner.py) uploads in the background.

* request.py   PublishRequest: what a publication asks for (one model for API, CLI, MCP)
* store.py     the publications, in their own SQLite file in DATA_DIR
* accounts.py  tokens in DATA_DIR (mode 0600), or from the environment; "connected as whom"
* oauth.py     `flask connect`: Google's installed-app flow, TikTok's with PKCE
* transfer.py  the HTTPS client, reading a file in pieces, retries with exponential backoff
* youtube.py   Data API v3: resumable videos.insert, thumbnails.set
* tiktok.py    Content Posting API: inbox draft or direct post, FILE_UPLOAD chunks, status
* errors.py    the platforms' refusals said plainly
* runner.py    the background worker; resumes unfinished publications on start
"""
