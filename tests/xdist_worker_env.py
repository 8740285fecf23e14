"""Loaded with `-p` (pytest.ini), before pytest-django reads the settings: under pytest-xdist each worker
takes its own Redis database (REDIS_URL's number, minus the worker's index), so one worker's cache
clears, queues and room channels never reach another's. PostgreSQL is kept apart by pytest-django,
which gives each worker its own test database. Without xdist this does nothing."""

import os
from urllib.parse import urlsplit

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_url = os.environ.get("REDIS_URL", "")
if _worker.startswith("gw") and _redis_url:
    _parts = urlsplit(_redis_url)
    _database = (int(_parts.path.strip("/") or 0) - int(_worker[2:])) % 16
    os.environ["REDIS_URL"] = _parts._replace(path=f"/{_database}").geturl()
