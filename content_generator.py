"""Turn a topic into a narration script.

Three sources, in order of preference:

* the user's own script (``user_script=``): split into sentences, no LLM;
* an OpenAI-compatible server: the one configured (``OPENAI_API_KEY`` and/or
  ``OPENAI_BASE_URL``), else one found running on this machine (Ollama, LM
  Studio; see ``local_llm.py``). The official ``openai`` SDK, over pooled
  ``httpx`` clients, with structured JSON output checked against a strict
  schema;
* the built-in offline writer (no server; ``offline_writer.offline_script``):
  a deterministic, template-based script, varied by topic. It writes English only, so its
  scripts always say ``language="en"`` (the voice follows that field); a
  script in another language needs a model or the user's own text.

Length: a script is written to a word budget (``word_budget``): the target
length times the voice's pace, less the pauses the render puts around the
sentences, so the finished video, not only its speech, lasts as asked.

Every script carries, per sentence, stock-footage search terms and a prompt
for an image model (``Script.search_terms``, ``Script.visual_prompts``): the
model writes them; otherwise they are derived from the sentence and topic.

Scripts from a model and the offline writer are cached (when a ``Cache`` is
given) under everything that changes the answer; user scripts are not.

This module is the script stage's entry point; its parts are in
``reelsmith/script/``: ``llm.py`` (the schema, prompts, request and reply),
``local_llm.py`` (finding a model on this machine), ``offline_writer.py``
and ``templates.py`` (the offline writer), ``text.py`` (the ``Script``, its
budget, derived scenes) and ``words.py`` (titles, hashtags); the stop words and keywords it
shares with the visuals stage are in ``reelsmith/core/words.py``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cache import Cache, make_key
from reelsmith.core.exceptions import InvalidScriptReply, ScriptError, ScriptServerUnreachable
from reelsmith.core.http_pool import PooledHTTP
from reelsmith.core.settings import Settings
from reelsmith.script import llm, local_llm
from reelsmith.script.offline_writer import offline_script
from reelsmith.script.text import (  # noqa: F401 (estimated_seconds: the stage's own name)
    PROMPT_VERSION,
    Script,
    WordBudget,
    estimated_seconds,
    script_from_text,
    style_for,
    word_budget,
)

if TYPE_CHECKING:
    from openai import OpenAI


class ContentGenerator(PooledHTTP):
    """Writes scripts. Every instance shares one pooled ``httpx.Client``
    (``ContentGenerator._get_http_client()``, created lazily under a lock:
    10 keep-alive connections, 20 at most), so repeated calls reuse their
    connections instead of opening new ones. Servers found on this machine
    get their own pooled client, which ignores proxy settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        cache: Cache | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ):
        """The arguments override ``settings``. ``api_key=""`` asks for the
        offline writer (no server, no probe). With neither a key nor a base
        URL (arguments or settings), servers on this machine are looked for
        (``DISCOVER_LOCAL_LLM``)."""
        self.settings = settings
        self.api_key = api_key if api_key is not None else settings.script.openai_api_key
        configured_url = base_url if base_url is not None else settings.script.openai_base_url
        self.model = model or settings.script.openai_model
        self.timeout = float(timeout if timeout is not None else settings.script.openai_timeout)
        self._local_timeout = float(
            timeout if timeout is not None else settings.script.local_llm_timeout
        )
        self.max_retries = (
            max_retries if max_retries is not None else settings.script.openai_max_retries
        )
        self.cache = cache
        self.calls = 0  # requests sent to the LLM (a retried malformed reply counts twice)
        self._calls_lock = threading.Lock()
        self.client: OpenAI | None = None  # the configured server's client
        wants_offline = api_key == ""
        if self.api_key or (configured_url and not wants_offline):
            from openai import (
                OpenAI,
            )  # imported here: it takes ~0.7 s and offline use never needs it

            self.client = OpenAI(
                api_key=self.api_key or "none",  # local servers need no key; the SDK wants one
                base_url=configured_url,
                http_client=self._get_http_client(),
                max_retries=self.max_retries,
                timeout=self.timeout,
            )
        self.discovers = (
            self.client is None and not wants_offline and settings.script.discover_local_llm
        )
        self._local_clients: dict[str, OpenAI] = {}
        self._local_lock = threading.Lock()
        if self.discovers:
            local_llm.discover(settings)  # at start-up, so the log says which writer is in use

    # -- which writer ---------------------------------------------------------
    def _writer(self) -> llm.Writer | None:
        """The server to ask now (None: the offline writer). A probe that
        found nothing is repeated at most every ``local_llm.RETRY_SECONDS``."""
        if self.client is not None:
            return llm.Writer(
                "openai",
                self.client,
                self.model,
                str(self.client.base_url).rstrip("/"),
                self.timeout,
                False,
            )
        if not self.discovers:
            return None
        server = local_llm.discover(self.settings).server
        if server is None:
            return None
        with self._local_lock:
            client = self._local_clients.get(server.base_url)
            if client is None:
                from openai import OpenAI

                client = self._local_clients[server.base_url] = OpenAI(
                    api_key="local",
                    base_url=server.base_url,
                    http_client=local_llm.http_client(),
                    max_retries=self.max_retries,
                    timeout=self._local_timeout,
                )
        return llm.Writer(
            server.name,
            client,
            server.pick_model(self.model),
            server.base_url,
            self._local_timeout,
            True,
        )

    @property
    def mode(self) -> str:
        """ "openai", "ollama", "lmstudio" or "offline"."""
        writer = self._writer()
        return writer.name if writer is not None else "offline"

    @property
    def base_url(self) -> str | None:
        """The script server's address (``None`` offline)."""
        writer = self._writer()
        return writer.base_url if writer is not None else None

    def writer_status(self) -> dict[str, Any]:
        """Which script writer is in use, for the page and the API:
        ``{"writer": "ollama", "model": ..., "base_url": ..., "discovered": True}``
        or ``{"writer": "offline", "hint": <how to start a local model>,
        "reasons": [<why no server is used>]}``."""
        writer = self._writer()
        if writer is not None:
            return {
                "writer": writer.name,
                "model": writer.model,
                "base_url": writer.base_url,
                "discovered": writer.discovered,
            }
        if self.discovers:
            reasons = list(local_llm.discover(self.settings).notes)
        elif self.api_key == "":
            reasons = ["the offline writer was asked for"]
        else:
            reasons = [
                "DISCOVER_LOCAL_LLM is off, and OPENAI_API_KEY and OPENAI_BASE_URL are not set"
            ]
        return {"writer": "offline", "hint": local_llm.HINT, "reasons": reasons}

    # -- scripts ------------------------------------------------------------------
    def generate_script(
        self,
        topic: str,
        *,
        language: str = "en",
        target_seconds: float = 30,
        tone: str = "informative",
        user_script: str | None = None,
        fresh: bool = False,
        words_per_second: float | None = None,
    ) -> Script:
        """A script for ``topic`` that fills ``target_seconds`` of video when
        read at ``words_per_second`` (default ``WORDS_PER_SECOND``; pass the
        voice's, from ``synthesizer.words_per_second``). ``fresh=True`` skips the
        cache read (the new script is still cached). Raises ``ScriptError``
        with a plain message."""
        topic = " ".join((topic or "").split())
        if user_script is not None and user_script.strip():
            return script_from_text(user_script, topic, language, tone)
        if not topic:
            raise ScriptError("the topic is empty")
        budget = word_budget(target_seconds, words_per_second)
        writer = self._writer()
        script = self._cached(writer, topic, language, budget, tone, fresh)
        if script is not None:
            return script
        if writer is None:
            script = offline_script(topic, target_seconds, budget.words_per_second, tone)
        else:
            try:
                script = self._ask_llm(writer, topic, language, budget, tone)
            except ScriptServerUnreachable as exc:
                if not writer.discovered:
                    raise
                # A server found on this machine went away: say so, and write offline.
                local_llm.forget(writer.base_url)
                writer = None
                script = self._cached(writer, topic, language, budget, tone, fresh)
                if script is None:
                    script = offline_script(topic, target_seconds, budget.words_per_second, tone)
                script.note = "; ".join(
                    filter(None, [f"{exc.message}; used the offline writer", script.note])
                )
        if self.cache is not None:
            self.cache.set(self._key(writer, topic, language, budget, tone), script.to_dict())
        return script

    def _cached(
        self,
        writer: llm.Writer | None,
        topic: str,
        language: str,
        budget: WordBudget,
        tone: str,
        fresh: bool,
    ) -> Script | None:
        if self.cache is None or fresh:
            return None
        cached = self.cache.get(self._key(writer, topic, language, budget, tone))
        return Script.from_dict(cached) if cached is not None else None

    def cache_key(
        self,
        topic: str,
        language: str = "en",
        target_seconds: float = 30,
        tone: str = "informative",
        words_per_second: float | None = None,
    ) -> str:
        """The key a script is cached under (for ``Cache.invalidate``)."""
        return self._key(
            self._writer(),
            " ".join(topic.split()),
            language,
            word_budget(target_seconds, words_per_second),
            tone,
        )

    @staticmethod
    def _key(
        writer: llm.Writer | None, topic: str, language: str, budget: WordBudget, tone: str
    ) -> str:
        if writer is None:
            return make_key(
                "script",
                "offline",
                None,
                None,
                PROMPT_VERSION,
                language,
                budget.target_seconds,
                budget.words,
                tone,
                topic,
            )
        return make_key(
            "script",
            writer.name,
            writer.model,
            writer.base_url,
            PROMPT_VERSION,
            language,
            budget.target_seconds,
            budget.words,
            budget.sentences,
            tone,
            topic,
        )

    # -- the LLM ----------------------------------------------------------
    def _ask_llm(
        self, writer: llm.Writer, topic: str, language: str, budget: WordBudget, tone: str
    ) -> Script:
        """Ask for the script; once more if the reply is unusable (not valid,
        cut off) or far from the word budget. Two replies far from the budget:
        the closer one is kept, and the script's note says so."""
        style = style_for(tone)
        messages = [
            {"role": "system", "content": llm.SYSTEM_PROMPT},
            {"role": "user", "content": llm.user_prompt(topic, language, budget, tone, style)},
        ]
        problem, best = "", None
        for _attempt in range(2):
            try:
                reply = self._complete(writer, messages)
                script = llm.script_from_reply(reply, topic, language, style, writer.name)
            except InvalidScriptReply as exc:
                problem = str(exc)
                continue
            miss = llm.length_miss(script, budget)
            if not miss:
                return script
            if best is None or abs(script.words - budget.words) < abs(best.words - budget.words):
                best = script
            problem = miss
            messages = [
                *messages,
                {"role": "assistant", "content": reply.model_dump_json()},
                {"role": "user", "content": llm.length_request(script, budget)},
            ]
        if best is not None:
            best.note = "; ".join(
                filter(
                    None,
                    [
                        f"the model missed the length twice ({problem}); kept its closer script",
                        best.note,
                    ],
                )
            )
            return best
        raise ScriptError(f"the model's reply was not a valid script: {problem}")

    def _complete(self, writer: llm.Writer, messages: list[dict[str, str]]) -> llm.ScriptModel:
        """One request to ``writer`` (counted in ``calls``)."""
        with self._calls_lock:
            self.calls += 1
        return llm.complete(writer, messages, self.api_key)
