"""Channels that carry alerts out: e-mail, webhook, the in-app inbox and the log."""
