"""Run configs: base.py holds every knob; each other file overrides it for one experiment (get_config())."""
