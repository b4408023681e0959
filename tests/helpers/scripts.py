"""ContentGenerator for the script tests: against a FakeOpenAI with a known
key, or offline (no local model looked for)."""

from __future__ import annotations

from typing import Any

from content_generator import ContentGenerator
from reelsmith.core.settings import Settings
from tests.helpers.servers import FakeOpenAI

KEY = "sk-test-0123456789-secret"
OFFLINE = Settings.build(discover_local_llm=False)  # no probe for a local model: the offline writer


def generator(server: FakeOpenAI, **kwargs: Any) -> ContentGenerator:
    kwargs.setdefault("max_retries", 0)
    return ContentGenerator(
        api_key=KEY, base_url=server.base_url, model="fake-model", settings=Settings(), **kwargs
    )
