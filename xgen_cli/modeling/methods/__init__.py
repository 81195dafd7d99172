"""One module per `method=<name>` config; each defines `build(...)`, the config's `_target_`."""
