import sys

from cartflow.cli import main

sys.exit(main())
