"""`python -m hymt_cli` runs the command line."""

from hymt_cli.cli import main

main()
