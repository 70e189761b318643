#pragma once
// The one rule for every --threads option (train, eval, predict), checked once where each
// command's options are validated; nothing below clamps the thread count.
namespace dptrain {

// Throws ConfigError("--threads must be at least 1") for threads < 1.
void check_thread_count(int threads);

}  // namespace dptrain
