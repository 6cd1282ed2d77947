"""The JSON API under /api/v1/, assembled from the apps' api modules (docs/api.md)."""
