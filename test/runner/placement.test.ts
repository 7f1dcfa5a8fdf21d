// The line that says where a local model runs, from what the worker reports: the CPU
// case is exercised for real by test/cli/modelInfo.test.ts; GPU machines are described
// here from a WorkerInfo as node-llama-cpp reports one on a CUDA machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkerInfo } from '../../core/backends/local/protocol';
import { localModelPlacement, placementLine } from '../../core/runner/runStore';

const GiB = 1024 ** 3;
const base: WorkerInfo = { gpu: false, gpuDeviceNames: [], vram: { total: 0, used: 0, free: 0 }, cpuMathCores: 16, maxThreads: 4, nodeLlamaCppVersion: '3.21.1', pid: 42, loadedModels: [] };

void test('a CPU model: the thread count, singular for one thread', () => {
  assert.equal(placementLine(localModelPlacement('/models/qwen.gguf', base)), 'local model qwen.gguf on CPU (4 threads)');
  assert.equal(placementLine(localModelPlacement('./tiny.gguf', { ...base, maxThreads: 1 })), 'local model tiny.gguf on CPU (1 thread)');
});

void test('a GPU model: the type, the device names and the VRAM in GiB; URLs are named by their file', () => {
  const cuda: WorkerInfo = { ...base, gpu: 'cuda', gpuDeviceNames: ['NVIDIA H200'], vram: { total: 139.8 * GiB, used: 1 * GiB, free: 138.8 * GiB } };
  assert.equal(placementLine(localModelPlacement('https://host/files/qwen.gguf?download=1', cuda)), 'local model qwen.gguf on CUDA (NVIDIA H200, 140 GiB VRAM)');
  assert.equal(placementLine(localModelPlacement('hf:user/model:Q4', cuda)), 'local model hf:user/model:Q4 on CUDA (NVIDIA H200, 140 GiB VRAM)');
  assert.deepEqual(localModelPlacement('hf:user/model:Q4', cuda), { model: 'hf:user/model:Q4', gpu: 'cuda', gpuDevices: ['NVIDIA H200'], vramBytes: 139.8 * GiB, threads: 4 });
  assert.equal(placementLine(localModelPlacement('/m.gguf', { ...cuda, gpu: 'metal', gpuDeviceNames: [], vram: { total: 0, used: 0, free: 0 } })), 'local model m.gguf on Metal');
});
