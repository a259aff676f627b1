"""imvo-workflow: follows Dutch IMVO covenant processes as an auditable state machine."""

__version__ = "0.1.0"
