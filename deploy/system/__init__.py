"""Tools for the running system (native and compose): run as
`python3 -m deploy.system.<tool>` from the repository root; compose_check.py and
compose_test.py import nothing from the project and also run by their path."""
