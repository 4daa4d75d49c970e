"""cdktf entry point: the settings of one environment (its committed file, environment variables
overriding single settings), both stacks, synth."""

import os
import sys

from settings.environments import load_environment
from stacks.app import build_app
from stacks.config import Settings

try:
    environment = load_environment(Settings, os.environ)
except ValueError as error:
    sys.exit(f"synth stopped: {error}")
print(environment.describe(), flush=True)
build_app(environment.settings).synth()
