"""A screen per task: the case list, one case, a comparison, the payload inspector, help and dialogs."""
