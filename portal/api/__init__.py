"""The REST API's plumbing, shared by every resource under /api/v1/: who is calling (access.py),
one error shape (errors.py), cursor pages (pagination.py), Idempotency-Key (idempotency.py) and the
per-caller rate limit (throttling.py). Resources live with their app: meetings/api/, accounts/api/."""
