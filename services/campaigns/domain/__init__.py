"""campaigns' pure domain: which offer a member gets, and why. No I/O imports here."""
