"""E-mail: sent after the response has gone out, never while the visitor waits.

Sending inside the request would make a form that mails only known addresses (the
password reset) answer slower for them, which tells an attacker which accounts exist,
and a slow or failing SMTP server would hold or break the page. The message is composed
in the request (language, links from PUBLIC_BASE_URL) and handed to the WSGI server's
close hook; a failure is logged for the operator.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import after_this_request, current_app


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool
    sender: str

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            use_tls=config["SMTP_USE_TLS"],
            sender=config["MAIL_FROM"],
        )


def mail_configured() -> bool:
    return bool(current_app.config["SMTP_HOST"] and current_app.config["MAIL_FROM"])


def deliver(settings: SmtpSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail through the SMTP server now."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, to, subject
    message.set_content(body)
    with smtplib.SMTP(settings.host, settings.port, timeout=20) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


def send_after_response(to: str, subject: str, body: str) -> None:
    """Send an e-mail once the current response has been sent (call inside a request)."""
    settings = SmtpSettings.from_config(current_app.config)
    logger = current_app.logger
    subject, body = str(subject), str(body)

    def send() -> None:
        try:
            deliver(settings, to, subject, body)
        except (OSError, smtplib.SMTPException):
            logger.exception("could not send an e-mail (%s)", subject)

    @after_this_request
    def defer(response):
        response.call_on_close(send)
        return response
