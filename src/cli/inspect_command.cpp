#include <iostream>

#include "commands.hpp"
#include "dptrain/inspect.hpp"

namespace dptrain::cli {

void add_inspect_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "inspect", "Show an HDF5 file's datasets and its features' and labels' statistics");
  auto o = std::make_shared<InspectOptions>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto all_columns = std::make_shared<bool>(false);
  cmd->add_option("files", *files, "HDF5 file(s)")->required();
  cmd->add_option("--features-name", o->features_name, "Features dataset [N, D], or a CSR group (anndata layout)")
      ->capture_default_str();
  cmd->add_option("--labels-name", o->labels_name, "Labels dataset [N] or [N, K]")
      ->capture_default_str();
  cmd->add_flag("--all-columns", *all_columns, "Statistics of every column (default: the first 20)");
  cmd->callback([&run, o, files, all_columns] {
    run = [o, files, all_columns](MpiCommunicator& comm) {
      return run_on_rank0(comm, [&] {
        for (const auto& file : *files) {
          InspectOptions options = *o;
          options.file = file;
          print_report(inspect_file(options), std::cout, *all_columns);
        }
        std::cout.flush();
      });
    };
  });
}

}  // namespace dptrain::cli
