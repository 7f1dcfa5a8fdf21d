/**
 * The job's `accelerate.yaml`, from its `distributed` setting: one process on this machine
 * (the default), or DDP, DeepSpeed ZeRO-2/3 or FSDP over several GPUs and nodes — the same
 * training script, another accelerate configuration (the paper trained with DeepSpeed). The
 * keys are accelerate's own (`accelerate config` writes the same shape). Multi-node jobs run
 * the same launch on every node with `--machine_rank` and the main node's address (the Slurm
 * engine or the user supplies them: docs/finetune.md, "Scale-out").
 */
import type { DistributedParams } from './job';

const HEADER = ['# accelerate launch settings of this job, written by coi (edit before start or resume; see docs/finetune.md, Scale-out).', 'compute_environment: LOCAL_MACHINE'];

function common(distributed: DistributedParams): string[] {
  const nodes = distributed.nodes ?? 1;
  return [
    "downcast_bf16: 'no'",
    'machine_rank: 0',
    'main_training_function: main',
    `num_machines: ${nodes}`,
    `num_processes: ${distributed.gpus * nodes}`,
    ...(nodes > 1 ? ['main_process_ip: 127.0.0.1 # the first node: override with --main_process_ip', `main_process_port: ${distributed.port ?? 29500}`] : []),
    "rdzv_backend: static",
    'same_network: true',
    'use_cpu: false',
  ];
}

/** The YAML text; `undefined` → one process on this machine. */
export function accelerateConfigYaml(distributed: DistributedParams | undefined): string {
  if (distributed === undefined) {
    return [...HEADER, "distributed_type: 'NO'", "downcast_bf16: 'no'", 'machine_rank: 0', 'main_training_function: main', "mixed_precision: 'no'", 'num_machines: 1', 'num_processes: 1', 'rdzv_backend: static', 'same_network: true', 'use_cpu: false', ''].join('\n');
  }
  switch (distributed.strategy) {
    case 'ddp':
      return [...HEADER, 'distributed_type: MULTI_GPU', "mixed_precision: 'bf16'", ...common(distributed), ''].join('\n');
    case 'deepspeed-zero2':
    case 'deepspeed-zero3': {
      const stage = distributed.strategy === 'deepspeed-zero2' ? 2 : 3;
      return [
        ...HEADER,
        'distributed_type: DEEPSPEED',
        'deepspeed_config:',
        '  deepspeed_multinode_launcher: standard',
        '  offload_optimizer_device: none',
        '  offload_param_device: none',
        `  zero3_init_flag: ${stage === 3 ? 'true' : 'false'}`,
        ...(stage === 3 ? ['  zero3_save_16bit_model: true'] : []),
        `  zero_stage: ${stage}`,
        "mixed_precision: 'bf16'",
        ...common(distributed),
        '',
      ].join('\n');
    }
    case 'fsdp':
      return [
        ...HEADER,
        'distributed_type: FSDP',
        'fsdp_config:',
        '  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP',
        '  fsdp_backward_prefetch: BACKWARD_PRE',
        '  fsdp_cpu_ram_efficient_loading: true',
        '  fsdp_offload_params: false',
        '  fsdp_sharding_strategy: FULL_SHARD',
        '  fsdp_state_dict_type: SHARDED_STATE_DICT',
        '  fsdp_sync_module_states: true',
        '  fsdp_use_orig_params: true',
        "mixed_precision: 'bf16'",
        ...common(distributed),
        '',
      ].join('\n');
  }
}
