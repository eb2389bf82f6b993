"""Settings shared by the test suite (tiny networks that fit in a fraction of a second)."""

__all__ = ["TINY"]

#: Keyword arguments of a tiny HanRockClassifier/HanRockRegressor for tests.
TINY = {"primary_units": 6, "aux_units": 2, "context_size": 3, "max_epochs": 2,
        "embedding_dim": 8, "batch_size": 16, "random_state": 0}
