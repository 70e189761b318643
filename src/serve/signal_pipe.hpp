#pragma once
// SIGTERM, SIGINT and SIGHUP for a multithreaded server: the handler only writes the signal
// number to a pipe (async-signal-safe, and whichever thread the kernel picks runs it); one
// thread reads the pipe and does the work (drain and stop, reload) outside signal context.
namespace dptrain::serve {

class SignalPipe {
 public:
  // Installs the handlers. One SignalPipe at a time per process.
  SignalPipe();
  // Closes the pipe; later signals of these kinds are ignored.
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // Blocks until a signal arrives (returns its number) or wake() is called (returns 0).
  int wait();
  // Makes wait() return 0, e.g. when the server stopped for another reason.
  void wake();
};

}  // namespace dptrain::serve
