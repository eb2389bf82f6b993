"""Helpers and settings shared by this folder's test modules."""


import numpy as np

ROUNDED_VALENCE = [1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 2.0, np.nan]

