#include "dptrain/stop_signal.hpp"

#include <csignal>
#include <unistd.h>

#include <initializer_list>

namespace dptrain {
namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_interrupts = 0;

extern "C" void on_stop_signal(int sig) {
  if (sig == SIGINT) g_interrupts = g_interrupts + 1;  // C++20 deprecates ++ on a volatile
  if (sig == SIGINT && g_interrupts >= 2) {
    static const char msg[] = "dptrain: second interrupt, stopping at once\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(kExitSecondInterrupt);
  }
  if (g_signal == 0) g_signal = sig;
}

}  // namespace

void StopSignal::install() {
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaction(sig, &action, nullptr);
}

bool StopSignal::requested() { return g_signal != 0; }
int StopSignal::signal_number() { return g_signal; }
void StopSignal::clear() {
  g_signal = 0;
  g_interrupts = 0;
}

}  // namespace dptrain
