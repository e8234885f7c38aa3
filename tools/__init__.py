"""Developer tools: the demo driver and helpers to run the services as processes."""
