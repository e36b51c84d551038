import sys

from checklist_app.cli import main

sys.exit(main())
