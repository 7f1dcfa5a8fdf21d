// The tests' seeded generator is core's (mulberry32), so generated data (model weights, edit
// bursts, stores) is the same on every run and a failure can be replayed from its seed.
export { seededRandom } from '../../core/metrics/random';
