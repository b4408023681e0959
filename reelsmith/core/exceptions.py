"""Every error Reelsmith raises on purpose, in one place.

Each pipeline error names the stage it happened in, so a failed task can say
"voice: Google Text-to-Speech could not be reached" instead of a stack trace.
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


class SpeechError(ReelsmithError):
    """No voice engine could speak the script."""

    stage = "voice"


class UnknownVoice(SpeechError):
    """A voice id no engine knows (or one its engine cannot use here). The
    web layer answers 400 naming ``field``."""

    stage = "voice"
    field = "voice"


class UnknownVisuals(ReelsmithError):
    """A visual source no one knows, or one with no key here. The web layer
    answers 400 naming ``field``."""

    stage = "visuals"
    field = "visuals"


class BadTransition(ReelsmithError):
    """An unknown transition or a duration out of range; ``field`` is
    "transition" or "transition_seconds" (400)."""

    stage = "render"

    def __init__(self, message: str, *, field: str = "transition"):
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
