import sys

from checklist_app.cli import entry

if __name__ == "__main__":  # not when a worker process imports this as its main module
    sys.exit(entry())
