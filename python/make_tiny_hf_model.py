"""A tiny Hugging Face Llama for tests: random weights, a sentencepiece unigram tokenizer
trained on the given text (byte fallback, so any text encodes), and a fast tokenizer built
from the same pieces (transformers 5 no longer builds a slow LlamaTokenizer from a file).
Usage: python make_tiny_hf_model.py OUT_DIR TEXT_FILE [--vocab 512] [--seed 0]
llama.cpp's convert_hf_to_gguf.py reads the tokenizer.model written here.
"""
import argparse
import io
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("text_file")
    parser.add_argument("--vocab", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import sentencepiece as spm
    import torch
    from tokenizers import Tokenizer, decoders, normalizers
    from tokenizers.models import Unigram
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    os.makedirs(args.out_dir, exist_ok=True)
    with open(args.text_file, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    model_bytes = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model_bytes,
        model_type="unigram",
        vocab_size=args.vocab,
        byte_fallback=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        character_coverage=0.99,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    with open(os.path.join(args.out_dir, "tokenizer.model"), "wb") as handle:
        handle.write(model_bytes.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model_bytes.getvalue())
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]

    fast = Tokenizer(Unigram(pieces, unk_id=0, byte_fallback=True))
    fast.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    fast.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=fast, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="</s>")
    tokenizer.save_pretrained(args.out_dir)

    torch.manual_seed(args.seed)
    config = LlamaConfig(
        vocab_size=len(pieces),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        rms_norm_eps=1e-5,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=False,
    )
    LlamaForCausalLM(config).save_pretrained(args.out_dir)
    print(f"tiny HF Llama in {args.out_dir}: vocab {len(pieces)}, {sum(p.numel() for p in LlamaForCausalLM(config).parameters())} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
