"""``python -m syndicate.testing.board``."""

from syndicate.testing.board.server import main

main()
