"""Deployment of the system; its Python tools live in deploy.system."""
