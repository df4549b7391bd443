"""`python -m recoup` runs the CLI."""

from recoup.cli import main

main()
