"""The load harness and its tools (Python; the rest of this folder is the criterion
bench crate): run as `python3 -m bench.<tool>` from the repository root."""
