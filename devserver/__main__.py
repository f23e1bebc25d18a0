import sys

from devserver.server import main

if __name__ == "__main__":  # worker processes (spawned) import this module too
    sys.exit(main())
