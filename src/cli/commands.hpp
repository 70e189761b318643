#pragma once
// Each subcommand registers its options on the CLI11 app and sets the function that runs it
// once the command line is parsed. One file per subcommand.
#include <CLI/CLI.hpp>
#include <functional>

#include "dptrain/mpi_communicator.hpp"

namespace dptrain::cli {

// Runs on every rank; returns the process exit code. Errors must be agreed collectively
// (run_agreed / CollectiveFailure) before they leave the function.
using Runner = std::function<int(MpiCommunicator&)>;

void add_train_command(CLI::App& app, Runner& run);
void add_gen_command(CLI::App& app, Runner& run);
void add_convert_command(CLI::App& app, Runner& run);
void add_bench_command(CLI::App& app, Runner& run);
void add_eval_command(CLI::App& app, Runner& run);
void add_predict_command(CLI::App& app, Runner& run);
void add_inspect_command(CLI::App& app, Runner& run);
void add_serve_command(CLI::App& app, Runner& run);
void add_compare_command(CLI::App& app, Runner& run);
void add_export_command(CLI::App& app, Runner& run);

// OMP_NUM_THREADS if set and positive, else 1: the default of every --threads option.
int default_thread_count();
// Registers --threads/-t with that default on a command or option group. The value is checked
// once, where the command's options are validated (check_thread_count).
CLI::Option* add_threads_option(CLI::App* cmd, int& threads);

// --stall-timeout: a finite number of seconds >= 0 (0: wait forever); -1 or nan is a usage error.
CLI::Validator stall_timeout_seconds();

// The allocator and OpenMP defaults dptrain sets for itself where the user has not
// (runtime_defaults.cpp); first thing in main, before MPI starts. May execute dptrain again.
void apply_runtime_defaults(char** argv);

// Runs `work` on rank 0 only (file writers), agreeing on the outcome.
int run_on_rank0(MpiCommunicator& comm, const std::function<void()>& work);

}  // namespace dptrain::cli
