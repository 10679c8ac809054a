import sys

from coursetools.grade.cli import main

sys.exit(main())
