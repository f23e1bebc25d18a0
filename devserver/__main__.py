import sys

from devserver.server import main

sys.exit(main())
