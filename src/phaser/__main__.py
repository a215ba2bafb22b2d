# PYTHON_ARGCOMPLETE_OK
import sys

from phaser.cli import main

sys.exit(main())
