"""Helpers shared by the nn tests: a tiny BERT to build encoders on, a fresh process without pickle."""

import subprocess
import sys

import torch

__all__ = ["HIDDEN", "MAX_POSITIONS", "VOCAB", "run_without_unpickling", "tiny_bert"]

# WordPiece vocabulary of the tiny BERT: "unbelievable" and "playing" split into
# pieces, "n't" into n ' t (BERT splits punctuation), unknown words into [UNK].
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", ".",
         ",", "!", "?", "do", "n", "'", "t", "it", "s", "un", "##believ", "##able", "play",
         "##ing", "##ed", "hello", "world", "a"]
HIDDEN = 16
MAX_POSITIONS = 32


def tiny_bert(folder, seed):
    """Write a tiny random BERT and its fast tokenizer to the new ``folder``; return it."""
    # Imported here: the test modules skip themselves first when transformers is absent.
    import transformers

    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(VOCAB))
    tokenizer = transformers.BertTokenizerFast(str(folder / "vocab.txt"))
    config = transformers.BertConfig(vocab_size=len(VOCAB), hidden_size=HIDDEN,
                                     num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=MAX_POSITIONS)
    torch.manual_seed(seed)
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def run_without_unpickling(script):
    """Run ``script`` in a fresh Python whose ``pickle.load`` is gone; return its stdout.

    A saved model must load there: nothing in the file may need unpickling.
    """
    preamble = "import pickle\npickle.load = None  # the model must load without unpickling\n"
    result = subprocess.run([sys.executable, "-c", preamble + script], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout
