"""Caption styles, previews and word-timed subtitles through the HTTP API and the CLI."""

import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app import create_app
from reelsmith.captions.overlay import PRESETS
from tests.helpers import make_settings, poll
from tests.helpers.media import FFMPEG


@pytest.fixture
def client(tmp_path):
    app = create_app({"SETTINGS": make_settings(tmp_path), "START_WORKERS": False})
    return app.test_client()


@pytest.mark.parametrize(
    "style, field",
    [
        ("sparkles", "caption_style"),
        ({"size": 1000}, "caption_style.size"),
        ({"highlight_color": "yellow"}, "caption_style.highlight_color"),
        ({"mode": "scroll"}, "caption_style.mode"),
        ({"font": "../../etc/passwd"}, "caption_style.font"),
        ({"unknown": 1}, "caption_style.unknown"),
    ],
)
def test_bad_caption_styles_get_400_naming_the_field(client, style, field):
    resp = client.post("/api/create", json={"topic": "tea", "caption_style": style})
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    resp = client.post("/api/preview", json={"caption_style": style})
    assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_a_style_is_stored_with_the_task(client):
    style = {"preset": "pop", "highlight_color": "#FF3B30"}
    resp = client.post("/api/create", json={"topic": "tea", "caption_style": style})
    assert resp.status_code == 202
    task = client.get(resp.get_json()["status_url"]).get_json()
    assert task["request"]["caption_style"] == style
    # A form sends the object as JSON text, or a preset name.
    resp = client.post("/api/create", data={"topic": "tea", "caption_style": json.dumps(style)})
    assert client.get(resp.get_json()["status_url"]).get_json()["request"]["caption_style"] == style
    resp = client.post("/api/create", data={"topic": "tea", "caption_style": "karaoke"})
    assert (
        client.get(resp.get_json()["status_url"]).get_json()["request"]["caption_style"]
        == "karaoke"
    )


@pytest.mark.parametrize(
    "aspect, size", [("9:16", (540, 960)), ("16:9", (960, 540)), ("1:1", (540, 540))]
)
def test_preview_is_a_png_frame_in_the_chosen_style(client, aspect, size):
    resp = client.post(
        "/api/preview",
        json={"topic": "Bees", "aspect": aspect, "caption_style": {"highlight_color": "#FF00FF"}},
    )
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    with Image.open(io.BytesIO(resp.data)) as image:
        assert image.size == size
        pixels = np.asarray(image.convert("RGB")).astype(int)
    magenta = (np.abs(pixels - [255, 0, 255]).sum(axis=2) < 60).mean()
    assert magenta > 0.0002  # the spoken word, in the colour asked for
    plain = client.post("/api/preview", json={"topic": "Bees", "aspect": aspect})
    assert plain.data != resp.data


def test_preview_refuses_bad_fields(client):
    assert client.post("/api/preview", json={"aspect": "4:3"}).get_json()["field"] == "aspect"
    assert (
        client.post("/api/preview", json={"sentence": "x" * 500}).get_json()["field"] == "sentence"
    )
    assert client.post("/api/preview", data="nope").status_code == 400


def test_rendered_task_serves_word_timed_subtitles(tmp_path):
    """A real render: the result's words come from the Piper voice, and the
    subtitles in each format carry them and read back through ffmpeg."""
    app = create_app({"SETTINGS": make_settings(tmp_path)})
    client = app.test_client()
    script = "Bees dance to vote. The best site wins."
    try:
        resp = client.post(
            "/api/create", json={"topic": "bees", "script": script, "caption_style": "karaoke"}
        )
        task = poll(client, resp.get_json()["task_id"], timeout=240)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    result = task["result"]
    assert result["word_timing"] in ("engine", "estimated")
    for caption in result["captions"]:
        words = caption["words"]
        assert [w["text"] for w in words] == caption["text"].split()
        starts = [w["start"] for w in words]
        assert starts == sorted(starts)
        assert caption["start"] <= starts[0] and words[-1]["end"] <= caption["end"] + 1e-3

    link = f"/api/task/{task['id']}/subtitles"
    srt = client.get(link).get_data(as_text=True)
    vtt = client.get(link + "?format=vtt")
    ass = client.get(link + "?format=ass")
    assert vtt.mimetype == "text/vtt" and vtt.get_data(as_text=True).startswith("WEBVTT")
    first = result["captions"][0]["words"][1]
    stamp = f"{int(first['start'] // 60):02d}:{first['start'] % 60:06.3f}"
    assert f"<00:{stamp}>{first['text']}" in vtt.get_data(as_text=True)
    assert "\\kf" in ass.get_data(as_text=True)
    assert client.get(link + "?format=doc").get_json()["field"] == "format"
    assert (
        client.get(link + "?format=ass&download=1").headers["Content-Disposition"].endswith(".ass")
    )
    for fmt, body in (
        ("srt", srt),
        ("vtt", vtt.get_data(as_text=True)),
        ("ass", ass.get_data(as_text=True)),
    ):
        path = tmp_path / f"s.{fmt}"
        path.write_text(body, encoding="utf-8")
        back = subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(path), "-f", "srt", "-"],
            capture_output=True,
            text=True,
        )
        assert back.returncode == 0 and back.stdout.count("-->") == 2, (fmt, back.stderr)


def test_cli_takes_a_caption_style(tmp_path):
    app = create_app({"SETTINGS": make_settings(tmp_path), "START_WORKERS": False})
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["create", "tea", "--caption-style", '{"mode": "scroll"}'])
    assert bad.exit_code != 0 and "caption_style.mode" in bad.output
    script = tmp_path / "s.txt"
    script.write_text("Tea is a leaf. People brew it hot.")
    out = tmp_path / "tea.mp4"
    ok = runner.invoke(
        args=["create", "tea", "--script", str(script), "--out", str(out), "--caption-style", "pop"]
    )
    assert ok.exit_code == 0, ok.output
    assert out.exists() and out.with_suffix(".srt").exists()
    assert set(PRESETS) >= {"classic", "pop", "karaoke", "boxed", "minimal"}


def test_an_uploaded_font_is_checked_and_used(tmp_path):
    """A TTF of your own: refused when it isn't a font, else stored under a
    generated name and used for the captions (the task result's video is
    drawn with it)."""
    from reelsmith.captions import fonts

    app = create_app({"SETTINGS": make_settings(tmp_path)})
    client = app.test_client()
    try:
        bad = client.post(
            "/api/create",
            data={"topic": "tea", "font": (io.BytesIO(b"not a font"), "x.ttf")},
            content_type="multipart/form-data",
        )
        assert bad.status_code == 400 and bad.get_json()["field"] == "font"
        wrong = client.post(
            "/api/create",
            data={"topic": "tea", "font": (io.BytesIO(b"x"), "x.woff")},
            content_type="multipart/form-data",
        )
        assert wrong.status_code == 400 and wrong.get_json()["field"] == "font"
        anton = fonts.FAMILIES["anton"].face().path.read_bytes()
        resp = client.post(
            "/api/create",
            data={
                "topic": "tea",
                "script": "Tea is a leaf. People brew it.",
                "font": (io.BytesIO(anton), "My Font.ttf"),
            },
            content_type="multipart/form-data",
        )
        assert resp.status_code == 202
        task = poll(client, resp.get_json()["task_id"], timeout=240)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    name = task["request"]["font"]
    assert name.endswith(".ttf") and "My Font" not in name
    uploads = tmp_path / "instance" / "uploads"
    assert not list(uploads.glob("*.ttf"))  # removed once the task ended, like other uploads

    from pipeline import Pipeline
    from reelsmith.tasks.model import TaskRequest

    style = Pipeline(make_settings(tmp_path)).caption_style(TaskRequest(topic="t", font="abc.ttf"))
    assert style.font == str(uploads / "abc.ttf")


def test_preview_draws_an_uploaded_font_and_keeps_nothing(client, tmp_path, monkeypatch):
    """A multipart preview may carry the font file a task would: it is checked
    the same way, drawn with, and removed once the frame is made."""
    import tempfile

    from reelsmith.captions import fonts

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where the font goes
    (tmp_path / "tmp").mkdir()
    style = json.dumps({"preset": "classic", "font": "noto-sans"})
    fields = {"topic": "Bees", "aspect": "1:1", "caption_style": style}
    as_json = client.post("/api/preview", json={**fields, "caption_style": json.loads(style)})
    as_form = client.post("/api/preview", data=fields, content_type="multipart/form-data")
    assert as_json.status_code == as_form.status_code == 200
    assert as_form.data == as_json.data  # the same fields, as a form
    import video_creator

    drawn_with = []

    def render_preview(title, sentence, style, size):
        drawn_with.append((style.font, Path(style.font).is_file()))
        return real_render_preview(title, sentence, style, size)

    real_render_preview = video_creator.render_preview
    monkeypatch.setattr(video_creator, "render_preview", render_preview)
    anton = fonts.FAMILIES["anton"].face().path.read_bytes()

    def with_font():
        return client.post(
            "/api/preview",
            content_type="multipart/form-data",
            data={**fields, "font": (io.BytesIO(anton), "My Font.ttf")},
        )

    drawn = with_font()
    assert drawn.status_code == 200 and drawn.mimetype == "image/png"
    ((font_path, existed),) = drawn_with
    assert existed and Path(font_path).parent.parent == tmp_path / "tmp"
    assert not Path(font_path).exists()
    assert with_font().data == drawn.data  # again: the same frame, and again removed
    assert not Path(drawn_with[1][0]).exists()
    assert drawn.data != as_form.data  # the caption is drawn in the uploaded font...
    named = client.post(
        "/api/preview", json={**fields, "caption_style": {"preset": "classic", "font": "anton"}}
    )
    with Image.open(io.BytesIO(drawn.data)) as a, Image.open(io.BytesIO(named.data)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))  # ...which is the bundled Anton
    # nothing kept: no font left in the temp folder, nor among the uploads
    assert not [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()]
    assert not list((tmp_path / "instance" / "uploads").glob("*"))


@pytest.mark.parametrize("upload", [(b"not a font", "x.ttf"), (b"x", "x.woff"), (b"", "x.otf")])
def test_preview_refuses_a_bad_font_naming_the_field(client, upload):
    data, name = upload
    resp = client.post(
        "/api/preview",
        data={"topic": "Bees", "font": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and resp.get_json()["field"] == "font"
    assert name in resp.get_json()["error"] or ".woff" in resp.get_json()["error"]
