"""`python -m bot.cli`: the same command as the `dpo-bot` script."""

from bot.cli import main

main()
