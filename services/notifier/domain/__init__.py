"""notifier's pure domain: channel choice and message rendering rules. No I/O imports here."""
