"""The Streaming API client against a local server that follows Gcore's contract."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from meetings.providers.base import ProviderError
from meetings.providers.gcore.streaming import StreamingClient

from ..factories import ProviderAccountFactory

TOKEN = "permanent-api-token"


@pytest.fixture
def account(acme, gcore_api, settings):
    settings.GCORE_API_BASE_URL = gcore_api.url
    settings.GCORE_BACKOFF_SECONDS = 0.05
    gcore_api.reset(TOKEN)
    return ProviderAccountFactory(organization=acme, api_token=TOKEN)


def videos(room, count):
    return [{"id": 1000 + n, "name": room, "slug": f"{room}-{n}", "status": "ready", "duration": 3_600_000,
             "hls_url": f"https://cdn.example/{n}.m3u8"} for n in range(count)]


def test_the_current_search_is_paged_until_an_empty_page_with_the_apikey_header(account, gcore_api):
    gcore_api.set(videos=videos("serv0room", 130) + videos("serv0other", 3))

    found = StreamingClient(account).videos_for_room("serv0room")

    assert len(found) == 130 and {v["name"] for v in found} == {"serv0room"}
    log = gcore_api.log()
    assert [entry["query"]["page"] for entry in log] == ["1", "2", "3"]
    assert {entry["authorization"] for entry in log} == {f"APIKey {TOKEN}"}


def test_the_legacy_search_is_used_where_the_current_one_is_missing(account, gcore_api):
    gcore_api.set(videos=videos("serv1room", 2), legacy_only=True)

    assert [v["id"] for v in StreamingClient(account).videos_for_room("serv1room")] == [1000, 1001]
    assert [entry["path"] for entry in gcore_api.log()] == ["/streaming/videos", "/streaming/videos/search"]


def test_server_errors_and_429_are_retried(account, gcore_api):
    gcore_api.set(videos=videos("serv0room", 1), fail_next=2)

    assert StreamingClient(account).video(1000)["hls_url"] == "https://cdn.example/0.m3u8"
    assert len(gcore_api.log()) == 3


def test_a_provider_that_keeps_failing_raises_a_retryable_error(account, gcore_api):
    gcore_api.set(fail_next=100)

    with pytest.raises(ProviderError) as failure:
        StreamingClient(account).video(1)

    assert not failure.value.permanent and "502" in str(failure.value)
    assert len(gcore_api.log()) == 6


def test_a_refused_token_is_permanent_and_not_retried(account, gcore_api):
    account.api_token = "wrong"

    with pytest.raises(ProviderError) as failure:
        StreamingClient(account).video(1)

    assert failure.value.permanent and "Invalid API token" in str(failure.value)
    assert len(gcore_api.log()) == 1


def test_statistics_come_back_over_the_asked_window_and_no_data_is_not_an_error(account, gcore_api):
    ten = datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp()
    gcore_api.set(peers={"serv0room": [
        {"person_id": "peer-1", "join_time": ten + 5, "leave_time": ten + 1800, "duration": 1795},
        {"person_id": "peer-2", "join_time": ten + 60, "leave_time": ten + 3600, "duration": 3540},
        {"person_id": "peer-1", "join_time": ten + 86400, "leave_time": ten + 90000, "duration": 3600}]})
    client, start, end = StreamingClient(account), datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 23, 12,
                                                                                                    tzinfo=UTC)

    assert client.room_summary("serv0room", start, end) == {"participants": 2, "start_time": ten + 5,
                                                            "end_time": ten + 3600, "duration": 3595}
    assert [p["person_id"] for p in client.room_peers("serv0room", start, end)] == ["peer-1", "peer-2"]
    assert client.room_peers("serv3empty", start, end) == []
    assert client.room_summary("serv3empty", start, end) is None
    assert gcore_api.log()[0]["query"] == {"room_id": "serv0room", "from": "2026-11-23T09:00:00Z",
                                           "to": "2026-11-23T12:00:00Z"}


HAMMER = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
import django
django.setup()
from django.conf import settings
from meetings.models import ProviderAccount
from meetings.providers.gcore.streaming import StreamingClient
settings.GCORE_API_BASE_URL = {url!r}
account = ProviderAccount.objects.get(pk={pk})
for _ in range(10):
    StreamingClient(account).video(1000)
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_together_never_send_more_than_four_requests_in_any_second(account, gcore_api, settings):
    gcore_api.set(videos=videos("serv0room", 1))
    db = connection.settings_dict
    env = {"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "REDIS_URL": settings.REDIS_URL, "SECRET_KEY": settings.SECRET_KEY,
           "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS), "PATH": "/usr/bin:/bin",
           "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true", "PORTAL_VAR_DIR": str(Path(settings.VAR_DIR))}
    script = HAMMER.format(root=str(Path(__file__).resolve().parents[2]), url=gcore_api.url, pk=account.pk)
    workers = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(2)]

    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    log = gcore_api.log()
    assert len(log) == 20 and all(entry["path"] == "/streaming/videos/1000" for entry in log)
    assert gcore_api.busiest_second() <= 4
