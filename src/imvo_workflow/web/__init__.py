"""The coordinators' web app and the JSON API (FastAPI, Jinja2, htmx)."""
