"""CoI Studio's training script for the local TRL engine (`coi finetune start --engine trl`).

Reads <job-dir>/config.json (the JobConfig of core/finetune/job.ts), trains with TRL's
SFTTrainer on prompt-completion JSONL, so that the loss covers only the completion
(config.trainingData.file: coi converts the job's data, in any dataset format, into it), and writes:
  <job-dir>/metrics.jsonl  one JSON line per log step (step, epoch, loss, learningRate,
                           tokensPerSecond, etaSeconds, maxSteps, elapsedSeconds)
  <job-dir>/exit.json      how it stopped: completed / cancelled (with a checkpoint, or
                           before training began: none) / failed, with the reason in words (a base
                           model that cannot be loaded, no example left to train on, a loss that
                           became NaN or infinite, a checkpoint that could not be saved)
  <output>/checkpoint-N    HF Trainer checkpoints; on SIGTERM or SIGUSR1 one is saved, then exit
                           (before the first step: no checkpoint, it stops at once); a Slurm job
                           that Slurm requeued goes on from the newest one when it runs again
  <job-dir>/restart.json   a run after Slurm requeued the job: which restart, and the step of
                           the checkpoint it went on from (null: from the start)
Launched through `accelerate launch` (see core/finetune/trl.ts).
"""
import argparse
import errno
import json
import math
import os
import shutil
import signal
import sys
import time
import traceback


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


class TrainingFailed(Exception):
    """A failure said in words (exit.json's message); the traceback, if any, is in the log."""


def one_line(err):
    """An exception in one line: its type and its message, line breaks folded."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def free_bytes(folder):
    """Bytes free for this user on the file system holding `folder` (or its nearest existing parent)."""
    while folder and not os.path.exists(folder):
        folder = os.path.dirname(folder)
    try:
        stat = os.statvfs(folder or ".")
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def os_error_in(err):
    """The OSError in an exception's chain (torch.save's RuntimeError hides the ENOSPC it met), or None."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno is not None:
            return err
        err = err.__cause__ or err.__context__
    return None


def save_problem(err, folder):
    """Why a save into `folder` failed, in words: a full disk (or quota) said so, with what is free; else the exception."""
    found = os_error_in(err)
    free = free_bytes(folder)
    full = (found is not None and found.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1))) or (free is not None and free < 1024 * 1024)
    if full:
        return f"the disk is full ({'no space' if not free else f'{free / 1e6:.1f} MB'} left there{'' if found is None or found.errno == errno.ENOSPC else ', or the disk quota is used up'})"
    if found is not None:
        return f"{found.strerror or one_line(found)}{f' ({found.filename})' if found.filename else ''}"
    return one_line(err)


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
    try:
        return train(args, stop_requested)
    except TrainingFailed as failure:
        # Said in words, for the job's state (exit.json) and the log; the traceback, if any, is above it in the log.
        message = str(failure)
        print(f"coi-train: {message}", file=sys.stderr, flush=True)
        write_json(exit_path, {"status": "failed", "message": message})
        return 1


def newest_checkpoint(output_dir):
    """(step, path) of the newest complete checkpoint-N in `output_dir` (trainer_state.json is written last), or None."""
    newest = None
    names = os.listdir(output_dir) if os.path.isdir(output_dir) else []
    for name in names:
        step = name[len("checkpoint-"):]
        path = os.path.join(output_dir, name)
        if name.startswith("checkpoint-") and step.isdigit() and os.path.isfile(os.path.join(path, "trainer_state.json")):
            if newest is None or int(step) > newest[0]:
                newest = (int(step), path)
    return newest


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
    newest = newest_checkpoint(args.output_dir)
    start = newest[1] if newest is not None else args.resume_from
    step = os.path.basename(os.path.normpath(start))[len("checkpoint-"):] if start else ""
    write_json(os.path.join(args.job_dir, "restart.json"), {"restart": int(restarts), "step": int(step) if step.isdigit() else None, "checkpoint": start})
    print(f"coi-train: Slurm requeued this job (restart {restarts}): going on from {start or 'the start (no checkpoint was saved)'}", file=sys.stderr, flush=True)
    return start


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json", "vocab.txt", "spiece.model")


def load_base(base, torch, AutoTokenizer, AutoModelForCausalLM):
    """The base model's tokenizer and weights; a folder they cannot be loaded from is said, naming it."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
    except Exception as err:
        traceback.print_exc()
        if os.path.isdir(base) and not any(os.path.isfile(os.path.join(base, name)) for name in TOKENIZER_FILES):
            raise TrainingFailed(f"The base model folder {base} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}): copy the tokenizer files of the model it came from into it.") from err
        raise TrainingFailed(f"Cannot load the tokenizer of the base model {base}: {one_line(err)}") from err
    try:
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    except Exception as err:
        traceback.print_exc()
        raise TrainingFailed(f"Cannot load the weights of the base model {base}: {one_line(err)}") from err
    return tokenizer, model


def lines_named(lines, most=5):
    """Line numbers in words: `3, 7 and 12`, the first `most` of them and how many more."""
    shown = [str(line) for line in lines[:most]]
    more = len(lines) - len(shown)
    if more > 0:
        return f"{', '.join(shown)} and {more} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def left_out_by_truncation(trainer, dataset, data_file, tokenizer, max_length):
    """
    TRL cuts every example to max_length tokens and drops those left with nothing to learn: a
    prompt of max_length tokens or more leaves none of the completion. Said rather than done
    without a word (one example dropped), or failing in torch's words (all of them: "num_samples=0").
    Answers what to say of the examples left out (None: none was).
    """
    columns = trainer.train_dataset.column_names or []
    if "coi_line" not in columns:
        return None
    kept = set(trainer.train_dataset["coi_line"])
    dropped = [line for line in range(1, len(dataset) + 1) if line not in kept]
    if not dropped:
        return None
    first = dataset[dropped[0] - 1]
    prompt = first.get("prompt")
    tokens = len(tokenizer(prompt)["input_ids"]) if isinstance(prompt, str) else None
    why = f"a prompt of maxLength ({max_length}) tokens or more leaves nothing of its completion to learn from (line {dropped[0]}: {tokens if tokens is not None else 'more'} tokens)"
    where = f"line{'s' if len(dropped) > 1 else ''} {lines_named(dropped)} of {data_file}"
    if not kept:
        raise TrainingFailed(f"No example is left to train on: {'the' if len(dropped) == 1 else f'all {len(dropped)}'} example{'s' if len(dropped) > 1 else ''} ({where}) {'were' if len(dropped) > 1 else 'was'} cut to nothing: {why}. Raise maxLength in the job's config, or shorten the prompts.")
    return f"{len(dropped)} of {len(dataset)} examples were left out ({where}): {why}; raise maxLength to train on them."


def guard_saves(trainer, output_dir):
    """
    A checkpoint that cannot be saved (a full disk, a quota, a folder that became unwritable) is
    said in words — torch.save's own error is "unexpected pos 862656 vs 862548" — and the folder
    it left half written, which resume could not use, is removed, freeing what it took.
    """
    original = trainer._save_checkpoint

    def save_checkpoint(*args, **kwargs):
        step = trainer.state.global_step
        try:
            return original(*args, **kwargs)
        except Exception as err:
            traceback.print_exc()
            folder = os.path.join(output_dir, f"checkpoint-{step}")
            problem = save_problem(err, folder)  # before removing the partial folder frees space
            if not os.path.isfile(os.path.join(folder, "trainer_state.json")):
                shutil.rmtree(folder, ignore_errors=True)
            newest = newest_checkpoint(output_dir)
            kept = f"checkpoint-{newest[0]}, saved before, is kept: free space there and run `coi finetune resume` to go on from it" if newest else "no complete checkpoint was saved before it: free space there and start the job again"
            raise TrainingFailed(f"Could not save checkpoint-{step} in {output_dir}: {problem}. Training stopped at step {step}; the incomplete checkpoint was removed, and {kept}.") from err

    trainer._save_checkpoint = save_checkpoint


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
    # The step at which the loss (or the gradient's norm) stopped being a number: training stops there, unsaved.
    diverged = {}

    class MetricsCallback(TrainerCallback):
        """Progress as JSON lines: TRL's own stdout mixes tqdm carriage returns and strings."""

        def __init__(self):
            self.tokens_before = 0
            self.first_step = None

        def on_train_begin(self, targs, state, control, **kwargs):
            # From here a stop saves a checkpoint first (on_step_end) instead of stopping at once.
            stop_requested["training"] = True
            # A resumed run's state comes from its checkpoint, whose token count holds the runs before it:
            # tokens/s is this run's tokens over this run's time.
            self.tokens_before = getattr(state, "num_input_tokens_seen", 0) or 0

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
            loss = float(logs["loss"])
            grad_norm = float(logs["grad_norm"]) if logs.get("grad_norm") is not None else None
            if not math.isfinite(loss) or (grad_norm is not None and not math.isfinite(grad_norm)):
                # NaN weights from here on: nothing more is trained or saved (on_log comes before this step's save).
                diverged.update(step=state.global_step, loss=loss, grad_norm=grad_norm, first=self.first_step is None)
                control.should_save = False
                control.should_training_stop = True
            if self.first_step is None:
                self.first_step = (state.global_step, elapsed)
            done_steps = state.global_step - self.first_step[0]
            rate = done_steps / max(elapsed - self.first_step[1], 1e-9) if done_steps > 0 else None
            tokens = (getattr(state, "num_input_tokens_seen", 0) or 0) - self.tokens_before
            line = {
                "step": state.global_step,
                "epoch": logs.get("epoch", state.epoch),
                "learningRate": float(logs.get("learning_rate", 0.0)),
                "maxSteps": state.max_steps,
                "elapsedSeconds": round(elapsed, 3),
            }
            if math.isfinite(loss):  # JSON has no NaN: a diverged step's line has no loss
                line["loss"] = loss
            if tokens > 0 and elapsed > 0:
                line["tokensPerSecond"] = round(tokens / elapsed, 1)
            if rate and not diverged:
                line["etaSeconds"] = round((state.max_steps - state.global_step) / rate, 1)
            with open(metrics_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")
                handle.flush()
            return control

    tokenizer, model = load_base(config["baseModel"], torch, AutoTokenizer, AutoModelForCausalLM)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # coi converts any dataset format to prompt-completion JSONL in the job folder (trainingData.ts);
    # a job made before that trains on its data file as it is.
    data_file = (config.get("trainingData") or {}).get("file") or config["data"]
    try:
        dataset = load_dataset("json", data_files=data_file, split="train")
    except Exception as err:
        traceback.print_exc()
        raise TrainingFailed(f"Cannot read the training data {data_file}: {one_line(err)}") from err
    # Each example's line, to name the ones TRL's truncation leaves nothing to learn from (the collator drops the column).
    dataset = dataset.map(lambda _, index: {"coi_line": index + 1}, with_indices=True)

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
        # A NaN loss is logged as NaN: transformers' default would log the earlier steps' mean instead (0 when every step was NaN).
        logging_nan_inf_filter=False,
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
    left_out = left_out_by_truncation(trainer, dataset, data_file, tokenizer, training["maxLength"])
    if left_out is not None:
        print(f"coi-train: {left_out}", file=sys.stderr, flush=True)
    guard_saves(trainer, args.output_dir)
    trainer.train(resume_from_checkpoint=args.resume_from)
    exit_path = os.path.join(args.job_dir, "exit.json")
    if diverged:
        value = "NaN" if math.isnan(diverged["loss"]) or (diverged["grad_norm"] is not None and math.isnan(diverged["grad_norm"])) else "infinite"
        what = "the loss" if not math.isfinite(diverged["loss"]) else "the gradient's norm"
        newest = newest_checkpoint(args.output_dir)
        kept = f" checkpoint-{newest[0]}, saved before it, is kept." if newest else ""
        hint = (
            f"It was so from this run's first logged step: the {'checkpoint it resumed from' if args.resume_from else 'base model'} may hold NaN or infinite weights, or the learning rate ({training['learningRate']}) is far too high."
            if diverged["first"]
            else f"Lower the learning rate ({training['learningRate']}) and start again."
        )
        raise TrainingFailed(f"Training diverged: {what} became {value} at step {diverged['step']}, and training stopped there; nothing from that step on was saved (the weights are no longer numbers).{kept} {hint}")
    if stop_requested["signal"] is not None:
        if not any(name.startswith("checkpoint-") for name in os.listdir(args.output_dir)):
            trainer.save_model(os.path.join(args.output_dir, f"checkpoint-{trainer.state.global_step}"))
        write_json(exit_path, {"status": "cancelled", "message": f"Stopped at step {trainer.state.global_step} ({signal_name(stop_requested['signal'])}); a checkpoint was saved, which resume goes on from."})
        return 0
    result_dir = os.path.join(args.output_dir, "final")
    try:
        trainer.save_model(result_dir)
        tokenizer.save_pretrained(result_dir)
        # llama.cpp's converter reads a sentencepiece tokenizer.model; a fast tokenizer does not write it.
        base_spm = os.path.join(config["baseModel"], "tokenizer.model")
        if os.path.isfile(base_spm):
            shutil.copyfile(base_spm, os.path.join(result_dir, "tokenizer.model"))
    except Exception as err:
        traceback.print_exc()
        problem = save_problem(err, result_dir)
        shutil.rmtree(result_dir, ignore_errors=True)
        newest = newest_checkpoint(args.output_dir)
        kept = f"checkpoint-{newest[0]} is kept: free space there and run `coi finetune resume` to go on from it" if newest else "no checkpoint was kept (saveSteps 0 saves none before the end): free space there and start the job again"
        raise TrainingFailed(f"Training finished ({trainer.state.global_step} steps), but the model could not be saved in {result_dir}: {problem}. The incomplete folder was removed; {kept}.") from err
    write_json(exit_path, {"status": "completed", "resultDir": result_dir, **({"message": left_out} if left_out is not None else {})})
    return 0


if __name__ == "__main__":
    sys.exit(main())
