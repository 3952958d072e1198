"""ddaudit: investigate the Datadog Audit Trail from the terminal."""

__version__ = "0.1.0"
