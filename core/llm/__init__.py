"""The one client for the model server (an OpenAI-compatible API, as vLLM serves it).

Every call to the model server goes through here: the VLM engine's windows, "Ask the model" and the
About page's check. One place decides retries (exponential backoff with jitter, Retry-After
honoured), how errors read (URLs and keys masked structurally, never a password shown), which model
is used (LLM_MODEL, checked against the server's list, else the first it lists), and how a JSON
answer is found in what a model wrote.
"""

from core.llm.answers import extract_json
from core.llm.client import (
    Completion,
    ModelChoice,
    ModelClient,
    RequestFailed,
    ServerStatus,
    ServerUnreachable,
    Traffic,
    Usage,
    chat_request,
    choose_model,
    server_status,
)

__all__ = [
    "Completion",
    "ModelChoice",
    "ModelClient",
    "RequestFailed",
    "ServerStatus",
    "ServerUnreachable",
    "Traffic",
    "Usage",
    "chat_request",
    "choose_model",
    "extract_json",
    "server_status",
]
