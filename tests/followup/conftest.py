"""The real SMTP server fixture lives in tests/conftest.py (the units' tests use it too); its
names stay importable from here."""

from tests.conftest import Sink, SmtpServer, free_port, smtp_server

__all__ = ["Sink", "SmtpServer", "free_port", "smtp_server"]
