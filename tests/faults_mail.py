"""The mail backend of fault tests' workers: a slow mail server (TEST_MAIL_DELAY seconds a message)
that reports to the test, through the shared Redis, when it starts and finishes each message."""

import os
import time

import redis

from portal.mail import EmlFileBackend


class ReportingEmlBackend(EmlFileBackend):
    def send_messages(self, email_messages):
        reports = redis.Redis.from_url(os.environ["TEST_MAIL_REDIS"])
        key, pid = os.environ["TEST_MAIL_KEY"], os.getpid()
        for message in email_messages:
            reports.rpush(key, f"sending {pid} {message.to[0]}")
            time.sleep(float(os.environ.get("TEST_MAIL_DELAY", "0")))  # the mail server taking its time
            super().send_messages([message])
            reports.rpush(key, f"sent {pid} {message.to[0]}")
        return len(email_messages)
