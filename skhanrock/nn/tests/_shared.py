"""Helpers shared by the tests of the pretrained word encoder and of the networks on it."""

import torch

__all__ = ["HIDDEN", "MAX_POSITIONS", "VOCAB", "tiny_bert"]

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
