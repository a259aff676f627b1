"""The `imvo` command, one module per group of commands; `main` is the console entry point."""

from imvo_workflow.cli.app import cli, main

__all__ = ["cli", "main"]
