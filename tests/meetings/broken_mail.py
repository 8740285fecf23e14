"""An email backend whose server refuses every message, to see failures reach the invitee's row."""

from smtplib import SMTPRecipientsRefused

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPRecipientsRefused({"x": (550, b"mail server said no")})
