"""CoI Studio's training script for the local TRL engine (`coi finetune start --engine trl`).

Reads <job-dir>/config.json (the JobConfig of core/finetune/job.ts), trains with TRL's
SFTTrainer on prompt-completion JSONL, so that the loss covers only the completion
(config.trainingData.file: coi converts the job's data, in any dataset format, into it), and writes:
  <job-dir>/metrics.jsonl  one JSON line per log step (step, epoch, loss, learningRate,
                           tokensPerSecond, etaSeconds, maxSteps, elapsedSeconds)
  <job-dir>/exit.json      how it stopped: completed / cancelled (with a checkpoint, or
                           before training began: none)
  <output>/checkpoint-N    HF Trainer checkpoints; on SIGTERM or SIGUSR1 one is saved, then exit
                           (before the first step: no checkpoint, it stops at once); a Slurm job
                           that Slurm requeued goes on from the newest one when it runs again
  <job-dir>/restart.json   a run after Slurm requeued the job: which restart, and the step of
                           the checkpoint it went on from (null: from the start)
Launched through `accelerate launch` (see core/finetune/trl.ts).
"""
import argparse
import json
import os
import shutil
import signal
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--resume-from", default=None, help="checkpoint folder to resume from")
    return parser.parse_args()


def write_json(path, value):
    temp = f"{path}.{os.getpid()}.tmp"  # one per process: every rank of a distributed job writes exit.json
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    os.replace(temp, path)


def signal_name(signum):
    """What asked the trainer to stop, in words: SIGTERM is a local cancel (or Slurm's own stop), SIGUSR1 a Slurm cancel or its time limit."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def main():
    args = parse_args()
    exit_path = os.path.join(args.job_dir, "exit.json")
    stop_requested = {"signal": None, "training": False}

    def on_signal(signum, _frame):
        if not stop_requested["training"]:
            # Nothing trained yet, nothing to save: stop now, wherever Python is (importing torch,
            # loading the model: seconds), and say so; the job would otherwise read as crashed.
            write_json(exit_path, {"status": "cancelled", "message": f"Cancelled before training began ({signal_name(signum)}): nothing was trained in this run, so no checkpoint was saved."})
            os._exit(0)
        # Training: finish the current step, save a checkpoint, then stop (MetricsCallback.on_step_end).
        stop_requested["signal"] = signum

    # First of all, before the imports that take seconds.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGUSR1, on_signal)
    args.resume_from = requeued_resume_from(args, exit_path)
    return train(args, stop_requested)


def requeued_resume_from(args, exit_path):
    """The checkpoint to start from. A Slurm batch job that Slurm requeued (preemption in REQUEUE mode,
    `scontrol requeue`, a node failure) runs its script again, with SLURM_RESTART_COUNT set: the run
    before had SIGTERM and saved a checkpoint, so this one goes on from the newest complete one
    (trainer_state.json is written last), as `coi finetune resume` would, not from the start; the
    earlier run's exit.json no longer describes the job. restart.json says which restart this is and
    the step it went on from (coi finetune status shows it however long the job waited)."""
    restarts = os.environ.get("SLURM_RESTART_COUNT", "")
    if not restarts.isdigit() or int(restarts) == 0:
        return args.resume_from
    try:
        os.remove(exit_path)
    except FileNotFoundError:
        pass
    newest = None
    names = os.listdir(args.output_dir) if os.path.isdir(args.output_dir) else []
    for name in names:
        step = name[len("checkpoint-"):]
        path = os.path.join(args.output_dir, name)
        if name.startswith("checkpoint-") and step.isdigit() and os.path.isfile(os.path.join(path, "trainer_state.json")):
            if newest is None or int(step) > newest[0]:
                newest = (int(step), path)
    start = newest[1] if newest is not None else args.resume_from
    step = os.path.basename(os.path.normpath(start))[len("checkpoint-"):] if start else ""
    write_json(os.path.join(args.job_dir, "restart.json"), {"restart": int(restarts), "step": int(step) if step.isdigit() else None, "checkpoint": start})
    print(f"coi-train: Slurm requeued this job (restart {restarts}): going on from {start or 'the start (no checkpoint was saved)'}", file=sys.stderr, flush=True)
    return start


def train(args, stop_requested):
    with open(os.path.join(args.job_dir, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    try:
        import torch
        from datasets import load_dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
        from trl import SFTConfig, SFTTrainer
    except ImportError as err:
        print(f"coi-train: missing Python package: {err.name} (run `coi finetune setup`)", file=sys.stderr)
        return 3

    training = config["training"]
    metrics_path = os.path.join(args.job_dir, "metrics.jsonl")
    started = time.monotonic()

    class MetricsCallback(TrainerCallback):
        """Progress as JSON lines: TRL's own stdout mixes tqdm carriage returns and strings."""

        def __init__(self):
            self.tokens = 0
            self.first_step = None

        def on_train_begin(self, targs, state, control, **kwargs):
            # From here a stop saves a checkpoint first (on_step_end) instead of stopping at once.
            stop_requested["training"] = True

        def on_step_end(self, targs, state, control, **kwargs):
            if stop_requested["signal"] is not None:
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_log(self, targs, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" not in logs:
                return
            elapsed = time.monotonic() - started
            if self.first_step is None:
                self.first_step = (state.global_step, elapsed)
            done_steps = state.global_step - self.first_step[0]
            rate = done_steps / max(elapsed - self.first_step[1], 1e-9) if done_steps > 0 else None
            tokens = getattr(state, "num_input_tokens_seen", 0) or 0
            line = {
                "step": state.global_step,
                "epoch": logs.get("epoch", state.epoch),
                "loss": float(logs["loss"]),
                "learningRate": float(logs.get("learning_rate", 0.0)),
                "maxSteps": state.max_steps,
                "elapsedSeconds": round(elapsed, 3),
            }
            if tokens and elapsed > 0:
                line["tokensPerSecond"] = round(tokens / elapsed, 1)
            if rate:
                line["etaSeconds"] = round((state.max_steps - state.global_step) / rate, 1)
            with open(metrics_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")
                handle.flush()

    tokenizer = AutoTokenizer.from_pretrained(config["baseModel"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(config["baseModel"], dtype=torch.float32)
    # coi converts any dataset format to prompt-completion JSONL in the job folder (trainingData.ts);
    # a job made before that trains on its data file as it is.
    data_file = (config.get("trainingData") or {}).get("file") or config["data"]
    dataset = load_dataset("json", data_files=data_file, split="train")

    bf16 = training.get("bf16", "auto")
    if bf16 == "auto":
        bf16 = bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    max_steps = training.get("maxSteps")
    sft_config = SFTConfig(
        output_dir=args.output_dir,
        num_train_epochs=training["epochs"],
        max_steps=max_steps if max_steps else -1,
        per_device_train_batch_size=training["perDeviceBatchSize"],
        gradient_accumulation_steps=training["gradientAccumulationSteps"],
        learning_rate=training["learningRate"],
        # transformers 5: a float warm-up below 1 is a ratio of the total steps.
        warmup_steps=float(training["warmupRatio"]),
        weight_decay=training["weightDecay"],
        bf16=bf16,
        logging_steps=training["loggingSteps"],
        save_strategy="steps" if training["saveSteps"] > 0 else "no",
        save_steps=training["saveSteps"] if training["saveSteps"] > 0 else 500,
        seed=training["seed"],
        max_length=training["maxLength"],
        completion_only_loss=True,
        report_to=[],
        disable_tqdm=True,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
    )
    peft_config = None
    if config["method"] == "lora":
        from peft import LoraConfig

        lora = config.get("lora") or {}
        target = lora.get("targetModules", "all-linear")
        # No new tokens and no trained embeddings: the adapter converts to GGUF cleanly.
        peft_config = LoraConfig(
            r=lora.get("r", 16),
            lora_alpha=lora.get("alpha", 32),
            lora_dropout=lora.get("dropout", 0.05),
            target_modules=target,
            task_type="CAUSAL_LM",
        )
    trainer = SFTTrainer(
        model=model,
        args=sft_config,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[MetricsCallback()],
    )
    trainer.train(resume_from_checkpoint=args.resume_from)
    exit_path = os.path.join(args.job_dir, "exit.json")
    if stop_requested["signal"] is not None:
        if not any(name.startswith("checkpoint-") for name in os.listdir(args.output_dir)):
            trainer.save_model(os.path.join(args.output_dir, f"checkpoint-{trainer.state.global_step}"))
        write_json(exit_path, {"status": "cancelled", "message": f"Stopped at step {trainer.state.global_step} ({signal_name(stop_requested['signal'])}); a checkpoint was saved, which resume goes on from."})
        return 0
    result_dir = os.path.join(args.output_dir, "final")
    trainer.save_model(result_dir)
    tokenizer.save_pretrained(result_dir)
    # llama.cpp's converter reads a sentencepiece tokenizer.model; a fast tokenizer does not write it.
    base_spm = os.path.join(config["baseModel"], "tokenizer.model")
    if os.path.isfile(base_spm):
        shutil.copyfile(base_spm, os.path.join(result_dir, "tokenizer.model"))
    write_json(exit_path, {"status": "completed", "resultDir": result_dir})
    return 0


if __name__ == "__main__":
    sys.exit(main())
