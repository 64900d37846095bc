"""``python -m device.pyportal install --volume <CIRCUITPY path> --stack <name>``"""
import sys

from . import main

sys.exit(main())
