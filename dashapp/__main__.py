import sys

from dashapp.cli import main

sys.exit(main())
