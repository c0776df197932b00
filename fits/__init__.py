"""pyhf statistical models: sideband bump-hunt limits, neutrino recasts and their combination."""
