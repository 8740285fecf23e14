import uuid
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string


class EmlFileBackend(BaseEmailBackend):
    """Write each message to its own .eml file under EMAIL_FILE_PATH, which any mail client opens."""

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send_messages(self, email_messages):
        for message in email_messages:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.directory / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
            path.write_bytes(message.message().as_bytes())
        return len(email_messages)


def templated_email(template: str, context: dict, *, subject: str, to: str, **kwargs) -> EmailMultiAlternatives:
    """An email in plain text and HTML from template.txt and template.html, rendered in the active
    language (call it inside translation.override)."""
    context = {**context, "subject": subject}
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context),
                                     to=[to], **kwargs)
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message
