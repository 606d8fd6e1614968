#!/usr/bin/env python3
"""HF PEFT's prefix tuning and prompt tuning on all-MiniLM-L6-v2 and tiny T5: adapters and the outputs they give.

    peft_prefix_prompt.py --models TINY_MODELS_DIR --out DIR
        For each case below writes DIR/<case>/adapter/ (PEFT's save_pretrained), DIR/<case>/reference.safetensors
        (the inputs and PEFT's outputs: last_hidden_state [B, P+T, H] for encoders with a prompt, [B, T, H]
        otherwise, teacher-forced logits for T5) and DIR/<case>/counts.json ({"trainable": elements PEFT trains,
        "model": the base model folder, "float32_noise": max |PEFT float32 - PEFT float64| on these outputs}).
        The reparameterised prefix case also writes DIR/<case>/mlp.safetensors: PEFT's prefix encoder under
        petlab's names (embedding, mlp.0.weight, mlp.0.bias, mlp.2.weight, mlp.2.bias). Also DIR/t5-even/model, a
        tiny T5 with 2 decoder layers (PEFT's default num_layers on an even depth makes two layers share a prefix).

    peft_prefix_prompt.py --check ADAPTER_DIR --model MODEL_DIR --inputs FILE --out FILE
        Loads ADAPTER_DIR with PeftModel.from_pretrained on MODEL_DIR and writes its outputs on the inputs of FILE
        into FILE --out: how adapters petlab writes are checked.

How outputs are computed (the same for both modes):
  - T5: PeftModel's own forward (teacher forcing, decoder_attention_mask given).
  - Encoder + prompt: PEFT's sequence-classification forward (the prompt rows take token type 0, the real tokens
    keep theirs; PEFT's feature-extraction forward would drop token types altogether), hidden_states[-1].
  - Encoder + prefix: PEFT's prefix keys/values (get_prompt) and mask, through the HF encoder with the real
    tokens at positions 0..T-1. PeftModel's forward hands the prefix to BERT as a generation cache, which moves
    the real tokens to positions P..P+T-1; petlab keeps their positions (plugins/prefix/README.md says why).
"""
import json
import pathlib
import sys

import torch
import transformers as tf
from peft import PeftModel, PrefixTuningConfig, PromptTuningConfig, TaskType, get_peft_model
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import peft_common  # noqa: E402
from peft_common import MINILM_ROWS, load_base, read_inputs  # noqa: E402

PROMPT_TEXT = "Classify the sentiment of this review."


def prefix(task, tokens, **kw):
    return lambda _: PrefixTuningConfig(task_type=task, num_virtual_tokens=tokens, **kw)


def prompt(task, tokens, **kw):
    return lambda _: PromptTuningConfig(task_type=task, num_virtual_tokens=tokens, **kw)


FE, S2S = TaskType.FEATURE_EXTRACTION, TaskType.SEQ_2_SEQ_LM
# case -> (model folder, config factory taking the model folder)
CASES = {
    "minilm-prefix": ("minilm", prefix(FE, 5)),
    "minilm-prefix-mlp": ("minilm", prefix(FE, 4, prefix_projection=True, encoder_hidden_size=24)),
    "minilm-prompt": ("minilm", prompt(FE, 6)),
    "minilm-prompt-text": ("minilm", lambda d: PromptTuningConfig(
        task_type=FE, num_virtual_tokens=20, prompt_tuning_init="TEXT", prompt_tuning_init_text=PROMPT_TEXT,
        tokenizer_name_or_path=str(d))),
    # PEFT's default num_layers on T5 is the encoder's depth; the tiny T5s have 3 decoder layers, so name it.
    "t5-v1_0-prefix": ("t5-v1_0", prefix(S2S, 3, num_layers=3)),
    # num_layers = 4 > 3 decoder layers: PEFT's regrouping sends layer 2 to the blocks of layer 0.
    "t5-v1_1-prefix": ("t5-v1_1", prefix(S2S, 4, num_layers=4)),
    # PEFT's defaults on a T5 with 2 encoder and 2 decoder layers: both layers read the same blocks.
    "t5-even-prefix": ("t5-even", prefix(S2S, 3)),
    # Default num_transformer_submodules (2): PEFT allocates 2 x 4 rows and prepends the first 4.
    "t5-v1_0-prompt": ("t5-v1_0", prompt(S2S, 4)),
    "t5-v1_1-prompt": ("t5-v1_1", prompt(S2S, 5, num_transformer_submodules=1)),
}


def write_t5_even(out, vocab):
    """A tiny T5 v1.0 with 2 decoder layers, seeded like make_tiny_models.py's (the tiny T5's vocabulary, so its
    reference inputs fit)."""
    model_dir = out / "t5-even" / "model"
    torch.manual_seed(15)
    config = tf.T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2,
                         num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                         feed_forward_proj="relu", tie_word_embeddings=True, dropout_rate=0.1, pad_token_id=0,
                         eos_token_id=1, decoder_start_token_id=0)
    tf.T5ForConditionalGeneration(config).eval().save_pretrained(model_dir, safe_serialization=True)
    return model_dir


def encoder_prefix_outputs(model, inputs):
    """PEFT's prefix through the HF encoder, the real tokens at positions 0..T-1 (see the module docstring)."""
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    batch, length = ids.shape
    tokens = model.active_peft_config.num_virtual_tokens
    base = model.get_base_model()
    result = base(input_ids=ids, token_type_ids=inputs.get("token_type_ids"),
                  attention_mask=torch.cat([torch.ones(batch, tokens, dtype=mask.dtype), mask], 1),
                  position_ids=torch.arange(length).expand(batch, length),
                  past_key_values=model.get_prompt(batch))
    return result.last_hidden_state


def encoder_prompt_outputs(model, model_dir, inputs):
    """PEFT's sequence-classification forward (keeps token types) with `model`'s prompt: last hidden states."""
    config = PromptTuningConfig(task_type=TaskType.SEQ_CLS,
                                num_virtual_tokens=model.active_peft_config.num_virtual_tokens)
    base = tf.AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=2)
    classifier = get_peft_model(base, config).eval().to(model.get_base_model().dtype)
    with torch.no_grad():
        classifier.prompt_encoder["default"].embedding.weight.copy_(model.prompt_encoder["default"].embedding.weight)
    kwargs = {k: inputs[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in inputs}
    return classifier(**kwargs, output_hidden_states=True).hidden_states[-1]


def outputs(model, model_dir, inputs):
    with torch.no_grad():
        if "decoder_input_ids" in inputs:
            result = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                           decoder_input_ids=inputs["decoder_input_ids"],
                           decoder_attention_mask=inputs["decoder_attention_mask"])
            return {"logits": result.logits}
        if model.active_peft_config.peft_type == "PREFIX_TUNING":
            hidden = encoder_prefix_outputs(model, inputs)
        else:
            hidden = encoder_prompt_outputs(model, model_dir, inputs)
        return {"last_hidden_state": hidden}


def randomise_prefix(model, seed):
    """Seeded plain prefixes at half PEFT's N(0, 1) scale: non-trivial, yet T5's logits stay small enough that
    float32 rounding in PEFT itself (about 1e-5 at |logit| 24 with N(0, 1)) stays well inside the tolerance."""
    config = model.active_peft_config
    if config.peft_type != "PREFIX_TUNING" or config.prefix_projection:
        return
    weight = model.prompt_encoder["default"].embedding.weight
    with torch.no_grad():
        weight.copy_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(seed)) * 0.5)


def as_float32(tensors):
    return {k: v.float().contiguous() for k, v in tensors.items()}


def float32_noise(model, model_dir, inputs, result):
    """How far PEFT's own float32 outputs are from its float64 ones: the floor of any float32 comparison (tiny
    T5 v1.1's logits reach 24, where it is about 1e-5)."""
    model.double()
    exact = outputs(model, model_dir, inputs)
    model.float()
    noise = 0.0
    for key, value in result.items():
        diff = (value.double() - exact[key]).abs()
        if key == "last_hidden_state":  # real tokens and soft tokens only, as the tests compare
            mask = inputs["attention_mask"]
            mask = torch.cat([torch.ones(mask.shape[0], diff.shape[1] - mask.shape[1], dtype=mask.dtype), mask], 1)
            diff = diff * mask.unsqueeze(-1)
        noise = max(noise, diff.max().item())
    return noise


def mlp_tensors(model):
    """PEFT's prefix encoder (prefix_projection) under petlab's parameter names."""
    encoder = model.prompt_encoder["default"]
    return {"embedding": encoder.embedding.weight, "mlp.0.weight": encoder.transform[0].weight,
            "mlp.0.bias": encoder.transform[0].bias, "mlp.2.weight": encoder.transform[2].weight,
            "mlp.2.bias": encoder.transform[2].bias}


def make(models_dir, out):
    folders = {"minilm": models_dir / "minilm", "t5-v1_0": models_dir / "t5-v1_0", "t5-v1_1": models_dir / "t5-v1_1"}
    write_t5_even(out, tf.AutoConfig.from_pretrained(str(folders["t5-v1_0"] / "model")).vocab_size)
    for index, (case, (model_name, make_config)) in enumerate(CASES.items()):
        target = out / case
        target.mkdir(parents=True, exist_ok=True)
        model_dir = out / "t5-even" / "model" if model_name == "t5-even" else folders[model_name] / "model"
        torch.manual_seed(index)
        model = get_peft_model(load_base(model_dir), make_config(model_dir)).eval()
        randomise_prefix(model, seed=100 + index)
        trainable = model.get_nb_trainable_parameters()[0]
        model.save_pretrained(str(target / "adapter"), safe_serialization=True)
        if model_name == "t5-even":
            ref = load_file(str(folders["t5-v1_0"] / "reference.safetensors"))
            inputs = {k: ref[k] for k in ("input_ids", "attention_mask", "decoder_input_ids", "decoder_attention_mask")}
        else:
            inputs = read_inputs(folders[model_name] / "reference.safetensors",
                                 MINILM_ROWS if model_name == "minilm" else None)
        result = outputs(model, model_dir, inputs)
        noise = float32_noise(model, model_dir, inputs, result)
        save_file({**inputs, **as_float32(result)}, str(target / "reference.safetensors"))
        if getattr(model.active_peft_config, "prefix_projection", False):
            save_file({k: v.detach().contiguous() for k, v in mlp_tensors(model).items()}, str(target / "mlp.safetensors"))
        (target / "counts.json").write_text(
            json.dumps({"trainable": trainable, "model": str(model_dir), "float32_noise": noise}) + "\n")
        print(f"{case}: {trainable} trainable parameters, float32 outputs within {noise:.2e} of float64")


def check(adapter_dir, model_dir, inputs_file, out_file):
    model = PeftModel.from_pretrained(load_base(model_dir), str(adapter_dir)).eval()
    save_file(as_float32(outputs(model, model_dir, read_inputs(inputs_file))), str(out_file))


if __name__ == "__main__":
    peft_common.main(__doc__, make, check)
