"""Turn a topic into a narration script.

Three sources, in order of preference:

* the user's own script (``user_script=``): split into sentences, no LLM;
* an OpenAI-compatible server (``OPENAI_API_KEY`` set): the official
  ``openai`` SDK over one pooled ``httpx.Client`` shared by every instance,
  structured JSON output checked against a schema;
* the built-in offline writer: a deterministic, template-based script.

Scripts from the LLM and the offline writer are cached on disk by
everything that changes the answer.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from pydantic import BaseModel, ValidationError

from cache import Cache, make_key
from config import Settings
from exceptions import ScriptError
from http_pool import PooledHTTP

PROMPT_VERSION = "1"


@dataclass
class Script:
    title: str
    sentences: list[str]          # one caption (and one voice clip) each
    description: str = ""
    hashtags: list[str] = field(default_factory=list)   # lowercase, without '#'
    source: str = "user"          # "openai" | "offline" | "user"
    language: str = "en"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Script":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class ScriptModel(BaseModel):
    """The JSON schema the model must answer with."""

    title: str
    sentences: list[str]
    description: str
    hashtags: list[str]


SYSTEM_PROMPT = (
    "You write scripts for narrated vertical short videos (YouTube Shorts, Reels, TikTok). "
    "Answer with JSON only. Each sentence is spoken and shown as one caption: keep sentences "
    "short (under 20 words), concrete and vivid. Start with a hook; end with a call to follow."
)


class ContentGenerator(PooledHTTP):
    """Every generator shares one pooled ``httpx.Client``
    (``ContentGenerator._get_http_client()``: 10 keep-alive, 20 max connections)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        cache: Cache | None = None,
        settings: Settings | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ):
        settings = settings or Settings.from_env()
        self.api_key = api_key or settings.openai_api_key
        self.base_url = base_url or settings.openai_base_url
        self.model = model or settings.openai_model
        self.timeout = settings.openai_timeout if timeout is None else timeout
        self.max_retries = settings.openai_max_retries if max_retries is None else max_retries
        self.cache = cache
        self.calls = 0
        self.client = None
        if self.api_key:
            from openai import OpenAI

            self.client = OpenAI(
                api_key=self.api_key,
                base_url=self.base_url,
                http_client=self._get_http_client(),
                max_retries=self.max_retries,
                timeout=self.timeout,
            )

    @property
    def mode(self) -> str:
        return "openai" if self.client is not None else "offline"

    def generate_script(
        self,
        topic: str,
        *,
        language: str = "en",
        target_seconds: int = 30,
        tone: str = "informative",
        user_script: str | None = None,
        fresh: bool = False,
    ) -> Script:
        topic = (topic or "").strip()
        if user_script and user_script.strip():
            return script_from_text(user_script, topic, language)
        if not topic:
            raise ScriptError("the topic is empty")
        key = self.cache_key(topic, language, target_seconds, tone)
        if self.cache is not None and not fresh:
            cached = self.cache.get(key)
            if cached is not None:
                return Script.from_dict(cached)
        if self.client is not None:
            script = self._ask_llm(topic, language, target_seconds, tone)
        else:
            script = offline_script(topic, target_seconds)
        if self.cache is not None:
            self.cache.set(key, script.to_dict())
        return script

    def cache_key(self, topic: str, language: str = "en", target_seconds: int = 30,
                  tone: str = "informative") -> str:
        """Everything that changes the answer: source, model, server, prompt, options."""
        return make_key("script", self.mode, self.model if self.client else None,
                        self.base_url if self.client else None, PROMPT_VERSION,
                        language, target_seconds, tone, topic.strip())

    # -- the LLM ----------------------------------------------------------
    def _ask_llm(self, topic: str, language: str, target_seconds: int, tone: str) -> Script:
        import openai

        n = max(4, min(10, round(target_seconds / 5)))
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": (
                f"Topic: {topic}\nLanguage: {language}\nTone: {tone}\n"
                f"Length: about {target_seconds} seconds spoken, so {n} sentences.\n"
                "Give a title (under 60 characters), the sentences, a one-paragraph "
                "description and 3 to 5 hashtags without '#'.")},
        ]
        problem = ""
        for _attempt in range(2):  # a reply that does not parse is asked for once more
            self.calls += 1
            try:
                completion = self.client.chat.completions.parse(
                    model=self.model, messages=messages, response_format=ScriptModel)
                parsed = completion.choices[0].message.parsed
                if parsed is None:
                    raise ValueError("the reply was empty or a refusal")
                return _validated(parsed, language)
            except (ValidationError, ValueError) as exc:
                problem = _first_line(exc)
            except openai.AuthenticationError as exc:
                raise ScriptError("the API key was rejected (HTTP 401): check OPENAI_API_KEY") from exc
            except openai.RateLimitError as exc:
                raise ScriptError("rate limit or quota exceeded (HTTP 429): wait, or check your "
                                  "plan's quota") from exc
            except openai.APITimeoutError as exc:
                raise ScriptError(f"the script server did not answer within {self.timeout:g} s") from exc
            except openai.APIConnectionError as exc:
                raise ScriptError(f"could not connect to the script server at "
                                  f"{self.client.base_url}") from exc
            except openai.APIStatusError as exc:
                raise ScriptError(f"the script server failed (HTTP {exc.status_code})") from exc
        raise ScriptError(f"the model's reply was not a valid script: {problem}")


def _validated(parsed: ScriptModel, language: str) -> Script:
    sentences = [s.strip() for s in parsed.sentences if s and s.strip()]
    if not 3 <= len(sentences) <= 12:
        raise ValueError(f"expected 3 to 12 sentences, got {len(sentences)}")
    if not parsed.title.strip():
        raise ValueError("the title is empty")
    hashtags = [h.strip().lstrip("#").lower() for h in parsed.hashtags if h.strip().lstrip("#")]
    return Script(title=parsed.title.strip(), sentences=sentences,
                  description=parsed.description.strip(), hashtags=hashtags[:5],
                  source="openai", language=language)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# -- the user's own script ---------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def script_from_text(text: str, topic: str, language: str) -> Script:
    sentences = split_sentences(text)
    if not sentences:
        raise ScriptError("your script has no sentences")
    title = topic or " ".join(sentences[0].split()[:8])
    return Script(title=title, sentences=sentences, description=text.strip()[:300],
                  hashtags=_hashtags(title), source="user", language=language)


# -- the offline writer ------------------------------------------------------
_STOPWORDS = set(
    "a an and are as at be but by can do does for from has have how i in is it its of on or "
    "so that the their them there they this to was what when where which who why will with "
    "you your about into than then these those we our us my me".split()
)

_HOOKS = [
    "Here is something most people never stop to ask: {q}",
    "Ever wondered {q_lower}",
    "{Q} The answer is stranger than you think.",
]
_BODIES = [
    [
        "At its core, the answer comes down to how one small detail shapes everything else.",
        "Scientists have studied {t} for years, and the picture keeps getting clearer.",
        "The short version: it solves a real problem in a surprisingly elegant way.",
        "Once you see how it works, you start noticing it everywhere.",
    ],
    [
        "To understand {t}, start with the problem it has to solve.",
        "Nature and people rarely do things without a reason, and this is no exception.",
        "The clever part is how simple the underlying idea turns out to be.",
        "And the details are even more fascinating than the headline.",
    ],
    [
        "The story of {t} begins with one simple need.",
        "Over time, that need shaped a solution that still works today.",
        "What looks odd at first glance makes perfect sense up close.",
        "Experts still find new surprises every time they look closer.",
    ],
]
_TAKEAWAYS = [
    "So next time someone wonders about {t}, you will know the real story.",
    "Remember this the next time the subject comes up.",
    "Now you know more about {t} than most people ever will.",
]
_CTA = "Follow for more short explainers like this one."


def offline_script(topic: str, target_seconds: int = 30) -> Script:
    """A sensible, deterministic script built from templates, varied by topic."""
    topic = " ".join(topic.split())
    seed = int.from_bytes(hashlib.sha256(topic.lower().encode()).digest()[:4], "big")
    subject = _subject(topic)
    question = topic[0].upper() + topic[1:]
    if not question.endswith(("?", ".", "!")):
        question += "?" if _is_question(topic) else "."
    fields = {
        "t": subject,
        "q": question,
        "Q": question,
        "q_lower": question[0].lower() + question[1:] if _is_question(topic) else f"about {subject}?",
    }
    hook = _HOOKS[seed % len(_HOOKS)] if _is_question(topic) else "Let's talk about {t} in under a minute."
    body = _BODIES[(seed >> 3) % len(_BODIES)]
    n_body = 3 if target_seconds < 30 else 4
    sentences = [hook] + body[:n_body] + [_TAKEAWAYS[(seed >> 6) % len(_TAKEAWAYS)], _CTA]
    sentences = [s.format(**fields) for s in sentences]
    sentences = [s[0].upper() + s[1:] for s in sentences]
    title = _title_case(topic.rstrip("?.!"))
    return Script(
        title=title,
        sentences=sentences,
        description=f"{title}: a short explainer. Written by Reelsmith's offline writer.",
        hashtags=_hashtags(topic) + ["shorts"],
        source="offline",
        language="en",
    )


def _is_question(topic: str) -> bool:
    first = topic.split()[0].lower() if topic.split() else ""
    return topic.endswith("?") or first in {"why", "how", "what", "when", "where", "who", "which",
                                             "is", "are", "do", "does", "can"}


def _subject(topic: str) -> str:
    """The topic as a phrase that fits the templates: 'why do cats purr' ->
    'why cats purr', 'what is a black hole' -> 'a black hole'."""
    words = topic.rstrip("?.!").split()
    first = words[0].lower() if words else ""
    if first in {"why", "how", "what", "when", "where", "who", "which"} and len(words) > 2:
        if words[1].lower() in {"do", "does", "did", "is", "are", "can"}:
            words = words[2:] if first == "what" else [words[0].lower()] + words[2:]
        elif first in {"why", "how"}:
            words = [first] + words[1:]
    return " ".join(words) or topic


def _title_case(text: str) -> str:
    small = {"a", "an", "and", "of", "the", "to", "in", "on", "for", "or", "at", "by"}
    words = text.split()
    return " ".join(
        w if (w.isupper() and len(w) > 1) else (w.lower() if i and w.lower() in small else w[:1].upper() + w[1:])
        for i, w in enumerate(words)
    )


def _hashtags(text: str) -> list[str]:
    words = [re.sub(r"[^\w]", "", w.lower()) for w in text.split()]
    tags = []
    for w in words:
        if w and w not in _STOPWORDS and len(w) > 2 and w not in tags:
            tags.append(w)
    return tags[:4]
