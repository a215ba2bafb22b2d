import sys

from phaser.cli import main

sys.exit(main())
