"""The daemon's feed server: ``output`` over HTTP, ``/healthz`` and ``/metrics``.

The daemon builds the application with `create_app_for` (or `create_app`) and serves it with
uvicorn; it reports its syncs to a `ServerStatus`, counts syncs and pushes on `Metrics`, and
hands the paths of closed jobs' pages to a `GonePaths` after each sync.
"""

from syndicate.serving.app import create_app, create_app_for
from syndicate.serving.gone import GonePaths, job_page_path
from syndicate.serving.health import Health, ServerStatus, SyncRecord
from syndicate.serving.metrics import Metrics
from syndicate.serving.private import PrivateFiles, PrivateRule

__all__ = [
    "GonePaths",
    "Health",
    "Metrics",
    "PrivateFiles",
    "PrivateRule",
    "ServerStatus",
    "SyncRecord",
    "create_app",
    "create_app_for",
    "job_page_path",
]
