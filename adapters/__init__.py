"""Platform adapters: one sub-package per platform, each owning its payload models and normaliser."""
