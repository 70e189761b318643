#include <iostream>

#include "commands.hpp"
#include "dptrain/error.hpp"
#include "dptrain/model_export.hpp"

namespace dptrain::cli {
namespace {

struct ExportCommandOptions {
  std::string model, to, out;
};

}  // namespace

void add_export_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "export", "Write a trained model as ONNX, NumPy .npz or safetensors, tensors named as PyTorch's "
                "state_dict (0.weight [out, in], 0.bias, ...)");
  auto c = std::make_shared<ExportCommandOptions>();
  cmd->add_option("--model,-m", c->model, "Checkpoint (model) file written by dptrain train")->required();
  cmd->add_option("--to", c->to, "onnx | npz | safetensors")->required();
  cmd->add_option("--out,-o", c->out, "Output file")->required();
  cmd->callback([&run, c] {
    run = [c](MpiCommunicator& comm) {
      return run_on_rank0(comm, [&] {
        export_model(c->model, parse_export_format(c->to), c->out);
        std::cout << "dptrain: exported " << c->model << " as " << c->to << " to " << c->out << std::endl;
      });
    };
  });
}

}  // namespace dptrain::cli
