"""Revising a finished video (POST /api/task/<id>/revise): real renders at
270x480 with the offline voice and generated visuals; the revision re-encodes
only the scenes whose frames changed. (With the icons look, the default, a
sentence whose icon changes also changes its neighbours' frames: the icon
before hands over to it, and it leaves into the next scene.)"""

import io
import json

import anyio
import pytest
from PIL import Image

from app import create_app
from cache import Cache
from reelsmith.tasks.retention import expire_outputs
from reelsmith.voice.synthesizer import SpeechSynthesizer
from tests.helpers import make_settings, poll
from tests.helpers.media import probe

SCENES = [
    {"text": "Octopuses have three hearts."},
    {"text": "Two pump blood to the gills."},
    {"text": "Their blood is blue."},
]


def _app(tmp_path, **config):
    return create_app({"SETTINGS": make_settings(tmp_path), "TESTING": True, **config})


def same_length_voice(settings, voice: str, old: str, new: str) -> None:
    """Put in the voice cache a clip for ``new`` that is ``old``'s clip (same
    word count): as if the voice said the new sentence in exactly as long. A
    real voice rarely does to the sample, and any change of the video's length
    changes every scene's frames (generated backgrounds span the video)."""
    synthesizer = SpeechSynthesizer(settings, Cache(settings.storage.cache_dir))
    engine, _, name = voice.partition(":")
    old_key = synthesizer.cache_key(engine, old, "en", name or None)
    clip = synthesizer.cache.get(old_key)
    assert clip is not None, "the first render cached its clips"
    words = [(w, start, end) for w, (_, start, end) in zip(new.split(), clip["words"], strict=True)]
    synthesizer.cache.set(
        synthesizer.cache_key(engine, new, "en", name or None), {**clip, "words": words}
    )


def test_a_revision_re_encodes_only_the_changed_scene(tmp_path):
    settings = make_settings(tmp_path)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    try:
        reply = client.post(
            "/api/create", json={"scenes": SCENES, "voice": "espeak", "visuals": "generated"}
        )
        assert reply.status_code == 202, reply.get_json()
        first_id = reply.get_json()["task_id"]
        first = poll(client, first_id, timeout=240)
        assert first["status"] == "done", first

        # Checked as create checks them, naming the scene's field.
        bad = client.post(
            f"/api/task/{first_id}/revise", json={"scenes": [SCENES[0], {"text": " "}]}
        )
        assert bad.status_code == 400 and bad.get_json()["field"] == "scenes[1].text"
        missing = client.post(f"/api/task/{first_id}/revise", json={})
        assert missing.status_code == 400 and missing.get_json()["field"] == "scenes"
        unknown = client.post(f"/api/task/{first_id}/revise", json={"scenes": SCENES, "topic": "x"})
        assert unknown.status_code == 400 and unknown.get_json()["field"] == "topic"

        # scenes[1] says something else, as the voice says it: the video's
        # length changes, and with it every scene's frames.
        edited = [SCENES[0], {"text": "Two push blood to the gills."}, SCENES[2]]
        reply = client.post(f"/api/task/{first_id}/revise", json={"scenes": edited})
        assert reply.status_code == 202, reply.get_json()
        second_id = reply.get_json()["task_id"]
        assert second_id != first_id
        assert reply.get_json()["status_url"].endswith(f"/api/task/{second_id}")
        second = poll(client, second_id, timeout=240)
        assert second["status"] == "done", second

        # A revision of the revision, its scenes[1] spoken as long as the
        # first video's: the first video's other two scenes are reused (one
        # segments folder for the line of revisions).
        same = [SCENES[0], {"text": "Two send blood to the gills."}, SCENES[2]]
        same_length_voice(settings, first["result"]["voice"], SCENES[1]["text"], same[1]["text"])
        reply = client.post(f"/api/task/{second_id}/revise", json={"scenes": same})
        third = poll(client, reply.get_json()["task_id"], timeout=240)
        assert third["status"] == "done", third

        # Back to the first text: every scene of it is in the line's segments.
        reply = client.post(f"/api/task/{third['id']}/revise", json={"scenes": SCENES})
        fourth = poll(client, reply.get_json()["task_id"], timeout=240)
        assert fourth["status"] == "done", fourth
        video = tmp_path / "fourth.mp4"
        video.write_bytes(client.get(fourth["links"]["video"]).get_data())

        segments = tmp_path / "instance" / "segments" / first_id
        kept = sorted(p.name for p in segments.glob("*.mp4"))
        queue, files = app.extensions["reelsmith"], app.extensions["reelsmith_files"]
        assert expire_outputs(queue.store, files, max_age_seconds=3600) == 0
        assert segments.is_dir()
        assert expire_outputs(queue.store, files, max_age_seconds=0) == 4
    finally:
        app.extensions["reelsmith"].shutdown(30)

    before = first["result"]
    assert "revision_of" not in before
    assert before["segments"] == {"encoded": [0, 1, 2], "reused": []}

    result = second["result"]
    assert result["revision_of"] == first_id
    assert result["sentences"] == [s["text"] for s in edited]
    assert result["duration"] != before["duration"]
    assert result["segments"] == {"encoded": [0, 1, 2], "reused": []}

    result = third["result"]
    assert result["revision_of"] == second_id
    assert result["sentences"] == [s["text"] for s in same]
    assert result["duration"] == before["duration"]
    assert result["segments"] == {"encoded": [1], "reused": [0, 2]}

    result = fourth["result"]
    assert result["revision_of"] == third["id"]
    assert result["segments"] == {"encoded": [], "reused": [0, 1, 2]}
    assert result["captions"] == before["captions"]
    assert probe(video).duration == pytest.approx(before["duration"], abs=0.1)
    assert len(kept) == 7  # the first video's 3 scenes, the second's 3, the third's scenes[1]
    assert not segments.exists()  # the line's last task expired: its segments went


def test_only_a_done_task_can_be_revised(tmp_path):
    app = _app(tmp_path, START_WORKERS=False)
    client = app.test_client()
    task_id = client.post("/api/create", json={"scenes": SCENES}).get_json()["task_id"]
    reply = client.post(f"/api/task/{task_id}/revise", json={"scenes": SCENES})
    assert reply.status_code == 409
    assert "queued" in reply.get_json()["error"]
    missing = client.post("/api/task/" + "0" * 32 + "/revise", json={"scenes": SCENES})
    assert missing.status_code == 404


def test_the_mcp_tool_and_the_cli_command_revise_through_the_api(tmp_path):
    from reelsmith.web.mcp_server import build_server

    app = _app(tmp_path)
    client = app.test_client()
    scenes = SCENES[:2]
    task_id = client.post("/api/create", json={"scenes": scenes}).get_json()["task_id"]
    assert poll(client, task_id, timeout=240)["status"] == "done"
    server = build_server(app)
    edited = [scenes[0], {"text": "Two push blood to the gills."}]
    called = anyio.run(server.call_tool, "revise_video", {"task_id": task_id, "scenes": edited})
    data = called.structured_content
    by_mcp = poll(client, data["id"], timeout=240)
    assert by_mcp["status"] == "done", by_mcp
    assert by_mcp["result"]["revision_of"] == task_id
    assert by_mcp["result"]["sentences"] == [s["text"] for s in edited]

    file = tmp_path / "scenes.json"
    file.write_text(json.dumps({"scenes": [scenes[0], {"text": " "}]}))
    bad = app.test_cli_runner().invoke(args=["revise", task_id, str(file)])
    assert bad.exit_code != 0 and "scenes[1].text" in bad.output, bad.output

    # Each command is a process of its own, whose queue stops when it ends.
    file.write_text(json.dumps(scenes))  # back to the first text: both scenes reused
    out = tmp_path / "revised.mp4"
    done = (
        _app(tmp_path)
        .test_cli_runner()
        .invoke(args=["revise", by_mcp["id"], str(file), "--out", str(out)])
    )
    assert done.exit_code == 0, done.output
    assert f"revision of {by_mcp['id']}" in done.output
    assert "encoded [], reused [0, 1]" in done.output
    assert probe(out).duration > 1


def test_a_longer_sentence_over_pictures_re_encodes_only_its_scene(tmp_path):
    """Over pictures, each scene's frames are its own: scene 1 says more, the
    video grows, and scenes 0 and 2 are reused all the same (2 some frames later)."""
    from tests.helpers.fake_visuals import FakeImages

    with FakeImages(colour=(30, 200, 60)) as images:
        app = create_app(
            {
                "SETTINGS": make_settings(
                    tmp_path, images_base_url=images.base_url, images_api_key="img-key"
                ),
                "TESTING": True,
            }
        )
        client = app.test_client()
        scenes = [{**scene, "visual": {"prompt": f"picture {i}"}} for i, scene in enumerate(SCENES)]
        try:
            reply = client.post("/api/create", json={"scenes": scenes, "voice": "espeak"})
            first = poll(client, reply.get_json()["task_id"], timeout=240)
            assert first["status"] == "done", first
            # What "Edit scenes" opens: the scenes as revise takes them, with thumbnails.
            assert [s["visual"]["prompt"] for s in first["result"]["scenes"]] == [
                "picture 0",
                "picture 1",
                "picture 2",
            ]
            thumb = client.get(f"/api/storyboard/{first['id']}/1.jpg")
            assert thumb.status_code == 200 and thumb.data[:3] == b"\xff\xd8\xff"
            with Image.open(io.BytesIO(thumb.data)) as img:
                assert img.convert("RGB").getpixel((5, 5)) == pytest.approx((30, 200, 60), abs=25)
            longer = [*scenes]
            longer[1] = {**scenes[1], "text": "Two of them pump blood through the gills, again."}
            reply = client.post(f"/api/task/{first['id']}/revise", json={"scenes": longer})
            assert reply.status_code == 202, reply.get_json()
            second = poll(client, reply.get_json()["task_id"], timeout=240)
            assert second["status"] == "done", second
        finally:
            app.extensions["reelsmith"].shutdown(30)
    assert first["result"]["segments"] == {"encoded": [0, 1, 2], "reused": []}
    assert second["result"]["duration"] > first["result"]["duration"] + 0.5
    assert second["result"]["segments"] == {"encoded": [1], "reused": [0, 2]}
    assert len(images.requests) == 3  # the pictures came from the cache the second time


def test_a_video_with_an_uploaded_picture_can_be_revised(tmp_path):
    """The uploaded picture is kept with the line's segments when the video is
    done; a revision uses it again (its scene reused), and nothing is left in
    uploads/ after."""
    from tests.helpers.fake_visuals import png

    app = _app(tmp_path)
    client = app.test_client()
    scenes = [
        {"text": "My own red picture.", "visual": {"upload": "mine.png"}},
        {"text": "Then the sea."},
    ]
    try:
        reply = client.post(
            "/api/create",
            data={
                "scenes": json.dumps(scenes),
                "voice": "espeak",
                "backgrounds": (io.BytesIO(png((220, 30, 30), (90, 160))), "mine.png"),
            },
            content_type="multipart/form-data",
        )
        assert reply.status_code == 202, reply.get_json()
        first = poll(client, reply.get_json()["task_id"], timeout=240)
        assert first["status"] == "done", first
        kept = first["result"]["scenes"]
        assert kept[0]["visual"]["upload"] and kept[0]["visual"]["upload"] != "mine.png"
        kept[1]["text"] = "Then the deep blue sea."
        reply = client.post(f"/api/task/{first['id']}/revise", json={"scenes": kept})
        assert reply.status_code == 202, reply.get_json()
        second = poll(client, reply.get_json()["task_id"], timeout=240)
        assert second["status"] == "done", second
        bad = [{**kept[0], "visual": {"upload": "other.png"}}]
        reply = client.post(f"/api/task/{first['id']}/revise", json={"scenes": bad})
        assert reply.status_code == 400
        assert reply.get_json()["field"] == "scenes[0].visual.upload"
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert second["result"]["visuals_per_sentence"][0]["source"] == "upload"
    assert second["result"]["segments"]["reused"] == [0]
    assert list((tmp_path / "instance" / "uploads").iterdir()) == []
    media = tmp_path / "instance" / "segments" / first["id"] / "media"
    assert len({p.stat().st_ino for p in media.iterdir()}) == 1  # one picture, linked twice


def test_over_the_icons_look_a_longer_sentence_leaves_the_far_scenes_alone(tmp_path):
    """The offline default (icons): a still field, each icon in its scene's
    time. Scene 1 says more: scene 0 and scene 3 are reused; scene 2 may be
    encoded again only because scene 1's icon leaves during it."""
    app = _app(tmp_path)
    client = app.test_client()
    scenes = [
        {"text": "Octopuses have three hearts."},
        {"text": "A coffee cup sits on the table."},
        {"text": "A rocket flies to the moon."},
        {"text": "The ocean is deep and blue."},
    ]
    try:
        reply = client.post("/api/create", json={"scenes": scenes, "voice": "espeak"})
        first = poll(client, reply.get_json()["task_id"], timeout=240)
        assert first["status"] == "done", first
        longer = [*scenes]
        longer[1] = {"text": "A big coffee cup sits on the kitchen table, still warm."}
        reply = client.post(f"/api/task/{first['id']}/revise", json={"scenes": longer})
        second = poll(client, reply.get_json()["task_id"], timeout=240)
        assert second["status"] == "done", second
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert first["result"]["visuals"] == "icons"
    icons = [v["icon"] and v["icon"]["name"] for v in first["result"]["visuals_per_sentence"]]
    assert icons[0] == "octopus" and all(icons), icons
    assert second["result"]["duration"] > first["result"]["duration"] + 0.5
    segments = second["result"]["segments"]
    assert 1 in segments["encoded"] and set(segments["encoded"]) <= {1, 2}, segments
    assert {0, 3} <= set(segments["reused"]), segments
