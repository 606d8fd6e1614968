"""What the HF PEFT reference scripts (peft_lora_ia3.py, peft_prefix_prompt.py) share: loading the base models
and reference inputs, and the command line (--models/--out to write fixtures, --check to load an adapter petlab
wrote)."""
import argparse
import pathlib

import torch
import transformers as tf
from safetensors.torch import load_file

MINILM_ROWS = 48  # of the 200 reference sentences: enough lengths and pairs, quick on one core


def load_base(model_dir):
    config = tf.AutoConfig.from_pretrained(str(model_dir))
    if config.model_type == "t5":
        return tf.T5ForConditionalGeneration.from_pretrained(str(model_dir)).eval()
    return tf.AutoModel.from_pretrained(str(model_dir)).eval()


def read_inputs(reference_file, rows=None):
    """The model inputs in a reference file; with `rows`, the first rows cut to their longest real length."""
    ref = load_file(str(reference_file))
    names = ["input_ids", "attention_mask", "token_type_ids", "decoder_input_ids", "decoder_attention_mask"]
    inputs = {k: ref[k] for k in names if k in ref}
    if rows is not None:
        inputs = {k: v[:rows] for k, v in inputs.items()}
        longest = int(inputs["attention_mask"].sum(1).max())
        inputs = {k: v[:, :longest].contiguous() if not k.startswith("decoder") else v for k, v in inputs.items()}
    return inputs


def main(doc, make, check):
    """Runs make(models_dir, out) or check(adapter_dir, model_dir, inputs_file, out_file) from the command line."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--models", type=pathlib.Path, help="tiny models folder (make_tiny_models.py --out)")
    parser.add_argument("--check", type=pathlib.Path, metavar="ADAPTER_DIR")
    parser.add_argument("--model", type=pathlib.Path, help="with --check: the base model folder")
    parser.add_argument("--inputs", type=pathlib.Path, help="with --check: safetensors with the inputs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        if not args.model or not args.inputs:
            parser.error("--check needs --model and --inputs")
        check(args.check, args.model, args.inputs, args.out)
    else:
        if not args.models:
            parser.error("--models is required (or --check)")
        args.out.mkdir(parents=True, exist_ok=True)
        make(args.models, args.out)
