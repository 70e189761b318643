// The rank boundary: every error that reaches here has been agreed by all ranks; rank 0
// prints it once and every rank exits with the same non-zero code.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "dptrain/error.hpp"
#include "dptrain/stop_signal.hpp"

namespace dptrain::cli {

int default_thread_count() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  const int n = env ? std::atoi(env) : 1;
  return n > 0 ? n : 1;
}

CLI::Option* add_threads_option(CLI::App* cmd, int& threads) {
  threads = default_thread_count();
  return cmd->add_option("--threads,-t", threads, "OpenMP threads per rank (default: OMP_NUM_THREADS or 1)")
      ->capture_default_str();
}

CLI::Validator stall_timeout_seconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double seconds = 0;
        if (CLI::detail::lexical_cast(text, seconds) && std::isfinite(seconds) && seconds >= 0) return "";
        return "'" + text + "' is not a number of seconds >= 0 (0: wait forever)";
      },
      "SECONDS>=0");
}

int run_on_rank0(MpiCommunicator& comm, const std::function<void()>& work) {
  run_agreed(comm, [&] {
    if (comm.rank() == 0) work();
  });
  return 0;
}

}  // namespace dptrain::cli

int main(int argc, char** argv) {
  using namespace dptrain;
  cli::apply_runtime_defaults(argv);
  // Before MPI starts: a stop signal sent to `train` at any moment, even while it starts or
  // loads data, is kept as a pending stop (other commands keep the default actions).
  if (argc > 1 && std::string(argv[1]) == "train") StopSignal::install();
  std::optional<MpiEnvironment> mpi;
  try {
    mpi.emplace(&argc, &argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dptrain: error: %s\n", e.what());
    return 1;
  }
  MpiCommunicator comm;
  const int rank = comm.rank();

  CLI::App app{
      "dptrain: data-parallel training of linear models and MLPs on HDF5 data with MPI + OpenMP.\n"
      "Run under mpirun; each rank reads only its own shard of the rows."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dptrain 0.1.0");
  cli::Runner run;
  cli::add_train_command(app, run);
  cli::add_gen_command(app, run);
  cli::add_convert_command(app, run);
  cli::add_bench_command(app, run);
  cli::add_eval_command(app, run);
  cli::add_predict_command(app, run);
  cli::add_inspect_command(app, run);
  cli::add_serve_command(app, run);
  cli::add_compare_command(app, run);
  cli::add_export_command(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same command line, so every rank gets here; one prints. CLI11's
    // own codes (104, 106, 109...) become the one usage code; --help and --version are 0.
    const int code = rank == 0 ? app.exit(e) : e.get_exit_code();
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    return run(comm);
  } catch (const CollectiveFailure& e) {
    if (rank == 0) {
      std::cout.flush();
      std::fprintf(stderr, "dptrain: error: %s%s\n", e.what(),
                   comm.size() > 1 ? (" [rank " + comm.rank_on_host(e.failed_rank()) + "]").c_str() : "");
    }
    return e.exit_code();
  } catch (const std::exception& e) {
    // Not agreed: report on this rank and leave; mpirun ends the others.
    std::fprintf(stderr, "dptrain: error on rank %d: %s\n", rank, e.what());
    std::fflush(stderr);
    std::_Exit(exit_code_for(e));
  }
}
