#include "serve/signal_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "dptrain/error.hpp"

namespace dptrain::serve {
namespace {

int g_pipe[2] = {-1, -1};
constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP};

extern "C" void on_signal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] auto n = ::write(g_pipe[1], &byte, 1);  // full pipe: the signal is already pending
  errno = saved;
}

}  // namespace

SignalPipe::SignalPipe() {
  if (g_pipe[0] != -1) throw Error("SignalPipe: only one at a time");
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  ::fcntl(g_pipe[1], F_SETFL, O_NONBLOCK);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int sig : kSignals) sigaction(sig, &action, nullptr);
}

// The handlers stay: a signal during the last moments of shutdown (a second SIGTERM while
// MPI finalizes) writes to a closed descriptor and is ignored instead of killing the process
// with a non-zero status after it drained.
SignalPipe::~SignalPipe() {
  const int read_end = g_pipe[0], write_end = g_pipe[1];
  g_pipe[0] = g_pipe[1] = -1;
  ::close(read_end);
  ::close(write_end);
}

int SignalPipe::wait() {
  unsigned char byte = 0;
  ssize_t n;
  do n = ::read(g_pipe[0], &byte, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? byte : 0;
}

void SignalPipe::wake() { on_signal(0); }

}  // namespace dptrain::serve
