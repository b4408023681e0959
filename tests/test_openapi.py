"""The OpenAPI document is valid, covers every route, and is true of real responses;
schemathesis, run on the live app, finds no server error and no schema violation."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate

from app import create_app
from reelsmith.core.settings import Settings
from reelsmith.web.common import DOWNLOADS
from tests.helpers.live import serve


@pytest.fixture
def app(tmp_path):
    settings = Settings.build(data_dir=tmp_path / "instance", cache_dir=tmp_path / "cache")
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    yield app
    app.extensions["reelsmith"].shutdown(5)


@pytest.fixture
def doc(app):
    reply = app.test_client().get("/api/openapi.json")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    return reply.get_json()


def check(doc, path, method, response):
    """Validate a real response against the document: status documented, and
    (for JSON) the body against the schema."""
    operation = doc["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {path}: {status} undocumented"
    for name, header in operation["responses"][status].get("headers", {}).items():
        assert not header.get("required") or name in response.headers, f"{path}: no {name}"
    if "content" not in operation["responses"][status]:  # a redirect: no body to check
        return response
    documented = operation["responses"][status]["content"]
    assert response.mimetype in documented, f"{method.upper()} {path}: {response.mimetype}"
    if response.mimetype == "application/json":
        schema = {**documented["application/json"]["schema"], "components": doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(response.get_json())
    return response


def test_the_document_is_valid_openapi_3_1(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_route_is_documented_and_every_documented_path_exists(app, doc):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if path.endswith("/{kind}"):  # the download route: one path per kind
                routes |= {(path.replace("{kind}", kind), method.lower()) for kind in DOWNLOADS}
            else:
                routes.add((path, method.lower()))
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented


def test_create_fields_carry_the_limits_the_api_checks(tmp_path):
    settings = Settings.build(data_dir=tmp_path / "i", cache_dir=tmp_path / "c", max_topic_chars=50)
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    doc = app.test_client().get("/api/openapi.json").get_json()
    fields = doc["paths"]["/api/create"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["properties"]
    assert fields["topic"]["maxLength"] == 50
    assert (fields["length"]["minimum"], fields["length"]["maximum"]) == (10, 600)
    client = app.test_client()
    assert client.post("/api/create", json={"topic": "x" * 50}).status_code == 202
    assert client.post("/api/create", json={"topic": "x" * 51}).status_code == 400
    assert client.post("/api/create", json={"topic": "x", "length": 601}).status_code == 400
    app.extensions["reelsmith"].shutdown(5)


def test_real_responses_match_the_document(app, doc, tmp_path):
    client = app.test_client()
    store = app.extensions["reelsmith"].store
    created = check(
        doc, "/api/create", "post", client.post("/api/create", json={"topic": "otters"})
    )
    task_id = created.get_json()["task_id"]
    form = client.post("/api/create", data={"topic": "form", "length": "20"})
    check(doc, "/api/create", "post", form)
    upload = client.post(
        "/api/create",
        data={"topic": "x", "music": (io.BytesIO(b"no"), "a.mp3")},
        content_type="multipart/form-data",
    )
    assert check(doc, "/api/create", "post", upload).get_json()["field"] == "music"
    check(doc, "/api/create", "post", client.post("/api/create", json={"length": 5}))
    check(doc, "/api/create", "post", client.post("/api/create", json={"topic": "x" * 300_000}))
    check(
        doc,
        "/api/create",
        "post",
        client.post("/api/create", json={"topic": "x"}, headers={"Origin": "http://evil.example"}),
    )
    check(doc, "/api/tasks", "get", client.get("/api/tasks"))
    check(doc, "/api/tasks", "get", client.get("/api/tasks", base_url="http://evil.example"))
    check(doc, "/api/task/{task_id}", "get", client.get(f"/api/task/{task_id}"))
    check(doc, "/api/task/{task_id}", "get", client.get("/api/task/" + "0" * 32))
    check(doc, "/api/task/{task_id}/events", "get", client.get(f"/api/task/{task_id}/events"))
    check(doc, "/api/task/{task_id}/video", "get", client.get(f"/api/task/{task_id}/video"))
    check(doc, "/api/voices", "get", client.get("/api/voices"))
    check(doc, "/", "get", client.get("/"))

    # a finished task: links, every download, and one whose files expired
    store.transition(
        task_id,
        store.get(task_id).status.__class__("done"),
        progress=1.0,
        result={"title": "Otters", "captions": []},
    )
    videos = app.config["SETTINGS"].storage.data_dir / "videos"
    for suffix, _ in DOWNLOADS.values():
        (videos / f"{task_id}{suffix}").write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    done = check(doc, "/api/task/{task_id}", "get", client.get(f"/api/task/{task_id}")).get_json()
    assert set(done["links"]) == set(DOWNLOADS)
    for kind in DOWNLOADS:
        check(doc, f"/api/task/{{task_id}}/{kind}", "get", client.get(done["links"][kind]))
    (videos / f"{task_id}.mp4").unlink()
    check(doc, "/api/task/{task_id}/video", "get", client.get(done["links"]["video"]))

    other = client.post("/api/create", json={"topic": "cancel me"}).get_json()["task_id"]
    canceled = check(
        doc, "/api/task/{task_id}/cancel", "post", client.post(f"/api/task/{other}/cancel")
    )
    assert canceled.get_json()["status"] == "canceled"


def test_previews_match_the_document(app, doc):
    """JSON, or multipart with a font file of your own; a bad font is a 400 naming it."""
    from reelsmith.captions import fonts

    client = app.test_client()
    body = doc["paths"]["/api/preview"]["post"]["requestBody"]["content"]
    assert "font" in body["multipart/form-data"]["schema"]["properties"]
    check(doc, "/api/preview", "post", client.post("/api/preview", json={"topic": "Bees"}))
    anton = fonts.FAMILIES["anton"].face().path.read_bytes()
    ok = client.post(
        "/api/preview",
        content_type="multipart/form-data",
        data={"topic": "Bees", "caption_style": "pop", "font": (io.BytesIO(anton), "a.ttf")},
    )
    assert check(doc, "/api/preview", "post", ok).status_code == 200
    bad = client.post(
        "/api/preview",
        content_type="multipart/form-data",
        data={"font": (io.BytesIO(b"nope"), "a.ttf")},
    )
    assert check(doc, "/api/preview", "post", bad).get_json()["field"] == "font"


def test_presigned_downloads_redirect_as_documented(tmp_path):
    """With STORAGE_PRESIGN and outputs in S3 (a stand-in here: the S3 path itself
    is tested in test_storage.py), each download is a 302 to the presigned URL."""
    from reelsmith.core.storage import Files
    from reelsmith.tasks.model import TaskStatus

    settings = Settings.build(
        data_dir=tmp_path / "instance", cache_dir=tmp_path / "cache", storage_presign=True
    )
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})

    class Bucket:  # what media.download asks of S3Storage
        def local_path(self, name):
            return None

        def exists(self, name):
            return True

        def presigned_url(self, name, expires=300):
            return f"https://bucket.s3.example/{name}?X-Amz-Expires={expires}"

    app.extensions["reelsmith_files"] = Files(settings.storage.data_dir, Bucket())
    client = app.test_client()
    try:
        doc = client.get("/api/openapi.json").get_json()
        store = app.extensions["reelsmith"].store
        task_id = client.post("/api/create", json={"topic": "otters"}).get_json()["task_id"]
        store.transition(task_id, TaskStatus.DONE, progress=1.0, result={"captions": []})
        for kind, (suffix, _) in DOWNLOADS.items():
            path = f"/api/task/{{task_id}}/{kind}"
            assert "Location" in doc["paths"][path]["get"]["responses"]["302"]["headers"]
            response = check(doc, path, "get", client.get(f"/api/task/{task_id}/{kind}"))
            assert response.status_code == 302
            assert response.headers["Location"].endswith(f"{task_id}{suffix}?X-Amz-Expires=300")
    finally:
        app.extensions["reelsmith"].shutdown(5)


def test_errors_on_a_token_and_a_full_queue_match_the_document(tmp_path, doc):
    settings = Settings.build(
        data_dir=tmp_path / "i", cache_dir=tmp_path / "c", api_token="t", queue_size=1
    )
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    client = app.test_client()
    check(doc, "/api/tasks", "get", client.get("/api/tasks"))  # 401
    bearer = {"Authorization": "Bearer t"}
    check(
        doc, "/api/create", "post", client.post("/api/create", json={"topic": "a"}, headers=bearer)
    )
    full = check(
        doc, "/api/create", "post", client.post("/api/create", json={"topic": "b"}, headers=bearer)
    )
    assert full.status_code == 503 and full.headers["Retry-After"]
    token_doc = client.get("/api/openapi.json", headers=bearer).get_json()
    validate(token_doc)
    assert token_doc["security"] == [{"token": []}]
    app.extensions["reelsmith"].shutdown(5)


def test_the_page_links_the_document(app):
    html = app.test_client().get("/").get_data(as_text=True)
    assert 'href="/api/openapi.json"' in html


# -- schemathesis on the live app ----------------------------------------------

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
MAX_SECONDS = int(os.environ.get("SCHEMATHESIS_MAX_SECONDS", "60"))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    """WORKERS=0: the app accepts and queues but renders nothing, as a web-only
    node does; a large queue so a full one (503) is not what is being tested."""
    settings = Settings.from_env(
        {
            "WORKERS": "0",
            "QUEUE_SIZE": "100000",
            "DATA_DIR": str(tmp_path / "instance"),
            "CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    app = create_app({"SETTINGS": settings})
    with serve(app, threads=4) as url:
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{url}/api/openapi.json",
                "--url",
                url,
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--max-time",
                str(MAX_SECONDS),
                "--workers",  # one: hypothesis in threads hits CPython 3.11's
                "1",  # "AST constructor recursion depth mismatch" (gh-106905)
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--request-timeout",
                "20",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=MAX_SECONDS + 120,
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"},
        )
    output = run.stdout + run.stderr
    summary = output[output.rfind("SUMMARY") :]
    assert run.returncode == 0, output[-6000:]
    assert "Failures:" not in summary and "Errors:" not in summary, output[-6000:]
    assert re.search(r"(\d+) generated, \1 passed", summary), summary
    assert app.extensions["reelsmith"].store.list(), "schemathesis never queued a task"
