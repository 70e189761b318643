#include "util/threads.hpp"

#include "dptrain/error.hpp"

namespace dptrain {

void check_thread_count(int threads) {
  if (threads < 1) throw ConfigError("--threads must be at least 1");
}

}  // namespace dptrain
