#include "commands.hpp"
#include "dptrain/synthetic.hpp"

namespace dptrain::cli {

void add_gen_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("gen", "Write a synthetic HDF5 dataset with known ground truth");
  auto o = std::make_shared<SyntheticOptions>();
  cmd->add_option("--out,-o", o->out, "Output HDF5 file")->required();
  cmd->add_option("--rows", o->rows, "Number of rows")->capture_default_str();
  cmd->add_option("--features", o->features, "Number of feature columns")->capture_default_str();
  cmd->add_option("--classes", o->classes,
                  "0: regression targets; 2 or more: class ids from a linear teacher")
      ->capture_default_str();
  cmd->add_option("--targets", o->targets, "Regression outputs per row")->capture_default_str();
  cmd->add_option("--noise", o->noise, "Noise std (regression) or logit noise (classes)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "Feature type: float32 or float64")->capture_default_str();
  cmd->add_option("--pattern", o->pattern,
                  "linear (a linear teacher) or rings (concentric classes: not linearly separable)")
      ->capture_default_str();
  cmd->add_option("--chunk-rows", o->chunk_rows, "Chunk the datasets (0: contiguous)")
      ->capture_default_str();
  cmd->add_option("--gzip", o->gzip, "gzip level 1-9 (0: none)")->capture_default_str();
  cmd->callback([&run, o] {
    run = [o](MpiCommunicator& comm) { return run_on_rank0(comm, [o] { write_synthetic(*o); }); };
  });
}

}  // namespace dptrain::cli
