"""Every error Reelsmith raises on purpose, in one place.

Each pipeline error names the stage it happened in, so a failed task can say
"voice: Google Text-to-Speech could not be reached" instead of a stack trace.
Errors with a ``field`` become ``400 {error, field}`` in the web layer.

    Exception
    ├── ReelsmithError              .stage, .message: a task fails with these
    │   ├── ScriptError             script: no script could be written
    │   │   └── ScriptServerUnreachable   nothing answered at the server's address
    │   ├── VoiceError              voice: no engine could speak the script
    │   │   ├── UnknownVoice        400, field "voice"
    │   │   └── AlignmentFailed     a recording could not be aligned to its words
    │   │       └── ScriptMismatch  the script is not what the recording says
    │   ├── UnknownVisuals          400, field "visuals"
    │   ├── CaptionStyleError       400, field "caption_style.*"
    │   ├── RenderError             render: moviepy / ffmpeg failed
    │   ├── StageFailed             an unexpected exception, labelled with its stage
    │   └── TaskCanceled            the user canceled the task
    │       └── TaskInterrupted     the server stopped under it; queued again
    ├── InvalidScriptReply          the model answered, but not with a script (asked again)
    ├── SourceUnavailable           a visual source gave up for this video (next source)
    ├── StorageUnavailable          the storage can't be reached
    ├── WorkerError                 a worker can't start
    ├── BadRequest                  400, .field names the request field
    ├── QueueFull                   503: the queue is full
    ├── ConfigError                 .variable: a setting's value is bad
    ├── PublishError                .platform, .reason: an upload failed, said plainly
    │   ├── NotConnected            no token, or a revoked one: names `flask connect`
    │   ├── QuotaExceeded           the platform's quota; says when it resets
    │   └── UploadInterrupted       a 5xx or a dropped connection: resumed after a wait
    ├── AlreadyPublished            409: this task went to this account already (force)
    └── ValueError
        ├── FontError               a caption font or font file can't be used
        └── UnsafeURL               a webhook URL we will not send to
"""


class ReelsmithError(Exception):
    """Base class. ``stage`` names the pipeline stage; ``message`` is for users."""

    stage = "internal"

    def __init__(self, message: str, *, stage: str | None = None):
        super().__init__(message)
        self.message = message
        if stage is not None:
            self.stage = stage


class ScriptError(ReelsmithError):
    """The script could not be written (LLM unreachable, bad key, bad reply)."""

    stage = "script"


class ScriptServerUnreachable(ScriptError):
    """Nothing answered at the script server's address."""


class InvalidScriptReply(Exception):
    """The model answered, but not with a usable script."""


class VoiceError(ReelsmithError):
    """No voice engine could speak the script."""

    stage = "voice"


class UnknownVoice(VoiceError):
    """A voice id no engine knows (or one its engine cannot use here). The
    web layer answers 400 naming ``field``."""

    stage = "voice"
    field = "voice"


class AlignmentFailed(VoiceError):
    """A recording could not be aligned to its text (word timings then fall
    back to an estimate for a voice; an uploaded narration fails)."""


class ScriptMismatch(AlignmentFailed):
    """The script does not match the recording: its alignment cost is far
    above normal."""


class UnknownVisuals(ReelsmithError):
    """A visual source no one knows, or one with no key here. The web layer
    answers 400 naming ``field``."""

    stage = "visuals"
    field = "visuals"


class CaptionStyleError(ReelsmithError):
    """A caption style value that cannot be used; ``field`` names it (400)."""

    stage = "request"

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class RenderError(ReelsmithError):
    """moviepy / ffmpeg failed to produce the video."""

    stage = "render"


class TaskCanceled(ReelsmithError):
    """Raised inside a running task when the user canceled it."""

    stage = "canceled"


class TaskInterrupted(TaskCanceled):
    """Raised inside a running task when the server shuts down under it: the
    task stops like a canceled one (temp files removed) but is queued again."""

    stage = "interrupted"


class StageFailed(ReelsmithError):
    """An unexpected exception inside a pipeline stage, labelled with that stage."""


class BadRequest(Exception):
    """The client sent something we refuse; ``field`` names the request field (400)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class QueueFull(Exception):
    """The queue holds as many tasks as it may; try again later (503)."""


class StorageUnavailable(Exception):
    """The storage can't be reached or used; the message says which and why."""


class WorkerError(Exception):
    """Why the render worker can't start, in one sentence for the operator."""


class ConfigError(Exception):
    """A setting from the environment has a bad value; ``variable`` names it."""

    def __init__(self, variable: str, message: str):
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


class PublishError(Exception):
    """A publication failed; ``message`` says why for people, ``reason`` is the
    platform's own code (``quotaExceeded``, ``access_token_invalid``...)."""

    def __init__(self, message: str, *, platform: str, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.reason = reason


class NotConnected(PublishError):
    """No token for the platform, or the platform refused it (revoked, expired)."""


class QuotaExceeded(PublishError):
    """The platform's upload quota is spent; the message says when it resets."""


class UploadInterrupted(PublishError):
    """A 5xx answer or a dropped connection: the upload resumes after a wait."""


class AlreadyPublished(Exception):
    """The task was published to this account already; ``force`` publishes again (409)."""

    def __init__(self, message: str, publication_id: str):
        super().__init__(message)
        self.message = message
        self.publication_id = publication_id


class SourceUnavailable(Exception):
    """A visual source failed in a way that will not get better within this
    video (rate limit, server error, timeout, key rejected, a reply that is
    not an image)."""


class FontError(ValueError):
    """A font name or file that can't be used; the message says why."""


class UnsafeURL(ValueError):
    """A webhook URL we will not send to; the message says why."""
