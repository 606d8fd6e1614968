#!/usr/bin/env python3
"""HF PEFT's LoRA and (IA)^3 on the tiny models and all-MiniLM-L6-v2: adapters and the outputs they give.

    peft_lora_ia3.py --models TINY_MODELS_DIR --out DIR
        For each case below writes DIR/<case>/adapter/ (PEFT's save_pretrained: adapter_config.json +
        adapter_model.safetensors, weights set to seeded random values so that B != 0 and the IA3 vectors are
        not ones), DIR/<case>/reference.safetensors (the inputs and PEFT's outputs: last_hidden_state for
        encoders, teacher-forced logits for T5) and DIR/<case>/counts.json ({"trainable": elements PEFT
        trains}).

    peft_lora_ia3.py --check ADAPTER_DIR --model MODEL_DIR --inputs FILE --out FILE
        Loads ADAPTER_DIR with PeftModel.from_pretrained on MODEL_DIR and writes its outputs on the inputs of
        FILE (the same tensor names as above) into FILE --out: how petlab-written adapters are checked.
"""
import json
import pathlib
import sys

import torch
from peft import IA3Config, LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import peft_common  # noqa: E402
from peft_common import MINILM_ROWS, load_base, read_inputs  # noqa: E402

# BERT's IA3 targets must be exact: the suffix "output.dense" alone would also match attention.output.dense.
BERT_IA3_TARGETS = r"encoder\.layer\.\d+\.(attention\.self\.key|attention\.self\.value|output\.dense)"
BERT_IA3_FEEDFORWARD = r"encoder\.layer\.\d+\.output\.dense"

CASES = {
    "minilm-lora": ("minilm", lambda: LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["query", "value"])),
    # A layer subset and every linear module of the chosen layers.
    "minilm-lora-layers": ("minilm", lambda: LoraConfig(r=2, lora_alpha=5, target_modules=["query", "key", "dense"],
                                                        layers_to_transform=[1, 4])),
    "minilm-ia3": ("minilm", lambda: IA3Config(target_modules=BERT_IA3_TARGETS, feedforward_modules=BERT_IA3_FEEDFORWARD)),
    "t5-v1_0-lora": ("t5-v1_0", lambda: LoraConfig(r=4, lora_alpha=16, target_modules=["q", "v"])),
    # Rank-stabilised scaling on every linear module, the gated FFN's second input projection included.
    "t5-v1_1-lora": ("t5-v1_1", lambda: LoraConfig(r=2, lora_alpha=3, use_rslora=True,
                                                   target_modules=["q", "k", "v", "o", "wi_0", "wi_1", "wo"])),
    "t5-v1_0-ia3": ("t5-v1_0", lambda: IA3Config(target_modules=["k", "v", "wo"], feedforward_modules=["wo"])),
    "t5-v1_1-ia3": ("t5-v1_1", lambda: IA3Config(target_modules=["k", "v", "wo"], feedforward_modules=["wo"])),
}


def outputs(model, inputs, suffix=""):
    with torch.no_grad():
        if "decoder_input_ids" in inputs:
            result = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                           decoder_input_ids=inputs["decoder_input_ids"],
                           decoder_attention_mask=inputs["decoder_attention_mask"])
            return {"logits" + suffix: result.logits.contiguous()}
        kwargs = {k: inputs[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in inputs}
        return {"last_hidden_state" + suffix: model(**kwargs).last_hidden_state.contiguous()}


def outputs_fp32_and_fp64(model, inputs):
    """float32 outputs and, as a yardstick for float32 rounding, the same computed in float64."""
    result = outputs(model.float(), inputs)
    result.update(outputs(model.double(), inputs, "_fp64"))
    model.float()
    return result


def randomise_adapter(model, seed):
    """Non-trivial adapter weights: LoRA's B away from zero, IA3's vectors away from one."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "ia3_l" in name:
                p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.3)


def make(models_dir, out):
    for index, (case, (model_name, make_config)) in enumerate(CASES.items()):
        target = out / case
        target.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(index)
        model = get_peft_model(load_base(models_dir / model_name / "model"), make_config()).eval()
        randomise_adapter(model, seed=100 + index)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        model.save_pretrained(str(target / "adapter"), safe_serialization=True)
        rows = MINILM_ROWS if model_name == "minilm" else None
        inputs = read_inputs(models_dir / model_name / "reference.safetensors", rows)
        save_file({**inputs, **outputs_fp32_and_fp64(model, inputs)}, str(target / "reference.safetensors"))
        (target / "counts.json").write_text(json.dumps({"trainable": trainable}) + "\n")
        print(f"{case}: {trainable} trainable parameters")


def check(adapter_dir, model_dir, inputs_file, out_file):
    model = PeftModel.from_pretrained(load_base(model_dir), str(adapter_dir)).eval()
    inputs = read_inputs(inputs_file)
    save_file(outputs_fp32_and_fp64(model, inputs), str(out_file))


if __name__ == "__main__":
    peft_common.main(__doc__, make, check)
