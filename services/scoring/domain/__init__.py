"""scoring's pure domain: member state and its transitions. No I/O imports here."""
