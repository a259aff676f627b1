"""`python -m imvo_workflow` is the `imvo` command."""

from imvo_workflow.cli import main

main()
