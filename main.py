"""cdktf entry point: settings from the environment, both stacks, synth."""

import os

from stacks.app import build_app
from stacks.config import Settings

build_app(Settings.from_env(os.environ)).synth()
