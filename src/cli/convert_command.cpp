#include <iostream>

#include "commands.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"

namespace dptrain::cli {

void add_convert_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("convert", "Import data from another format into HDF5");
  auto o = std::make_shared<ConvertOptions>();
  cmd->add_option("--from", o->from, "Input format: idx")->required();
  cmd->add_option("--input,-i", o->input, "Input file (idx: the images file, .gz or not)");
  cmd->add_option("--labels", o->labels, "Labels file (idx: the labels file)");
  cmd->add_option("--out,-o", o->out, "Output HDF5 file")->required();
  cmd->add_option("--chunk-rows", o->chunk_rows, "Chunk the datasets (0: contiguous)")
      ->capture_default_str();
  cmd->add_option("--gzip", o->gzip, "gzip level 1-9 (0: none)")->capture_default_str();
  cmd->callback([&run, o] {
    run = [o](MpiCommunicator& comm) {
      return run_on_rank0(comm, [o] {
        if (o->from != "idx") throw ConfigError("--from '" + o->from + "': expected idx");
        const auto rows = convert_idx(*o);
        std::cout << "dptrain: wrote " << rows << " rows to " << o->out << std::endl;
      });
    };
  });
}

}  // namespace dptrain::cli
