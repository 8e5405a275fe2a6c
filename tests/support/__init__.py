"""What tests import: CLI drivers, raw peers on loopback, pty and probe helpers."""
