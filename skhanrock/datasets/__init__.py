"""Built-in data and readers for conversation corpora and feature files."""

from ._corpora import IEMOCAP_4_CLASSES, load_iemocap, load_meld, load_semaine
from ._files import make_feature_files
from ._measurements import attach_measurements
from ._prosody import PROSODY_COLUMNS, extract_prosody
from ._readers import VOKATURI_EMOTIONS, align_frames, read_openface, read_vokaturi
from ._synthetic import EMOTIONS, PAPER_REGIME, make_conversations

__all__ = [
    "EMOTIONS",
    "IEMOCAP_4_CLASSES",
    "PAPER_REGIME",
    "PROSODY_COLUMNS",
    "VOKATURI_EMOTIONS",
    "align_frames",
    "attach_measurements",
    "extract_prosody",
    "load_iemocap",
    "load_meld",
    "load_semaine",
    "make_conversations",
    "make_feature_files",
    "read_openface",
    "read_vokaturi",
]
