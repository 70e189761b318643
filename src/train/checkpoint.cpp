#include "dptrain/checkpoint.hpp"

#include <cstring>

#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {
namespace {

void fnv1a(std::uint64_t& h, const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
}

}  // namespace

std::uint64_t checksum(const Checkpoint& c) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  fnv1a(h, c.params.data(), c.params.size() * sizeof(float));
  for (const auto& [name, values] : c.optimizer_state) {
    fnv1a(h, name.data(), name.size());
    fnv1a(h, values.data(), values.size() * sizeof(float));
  }
  const std::int64_t counters[4] = {c.optimizer_steps, c.epoch, c.global_step, c.epoch_step};
  fnv1a(h, counters, sizeof counters);
  return h;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  write_file_atomically(path, [&](H5Writer& w) {
    w.write("/params", {static_cast<std::int64_t>(c.params.size())}, c.params.data());
    for (const auto& [name, values] : c.optimizer_state)
      w.write("/optimizer/" + name, {static_cast<std::int64_t>(values.size())}, values.data());
    w.set_attribute("/", "format_version", std::vector<std::int64_t>{kCheckpointFormatVersion});
    w.set_attribute("/", "model", c.spec.name);
    w.set_attribute("/", "widths", c.spec.widths);
    w.set_attribute("/", "activation", to_string(c.spec.activation));
    w.set_attribute("/", "loss", to_string(c.spec.loss));
    w.set_attribute("/", "classes", std::vector<std::int64_t>{c.spec.classes()});
    w.set_attribute("/", "optimizer", c.optimizer);
    w.set_attribute("/", "counters",
                    std::vector<std::int64_t>{c.optimizer_steps, c.epoch, c.global_step,
                                              c.epoch_step, c.data_rows});
    w.set_attribute("/", "seed", std::vector<std::int64_t>{static_cast<std::int64_t>(c.seed)});
    w.set_attribute("/", "config", c.config);
    const std::uint64_t sum = checksum(c);
    w.set_attribute("/", "checksum", std::vector<std::int64_t>{static_cast<std::int64_t>(sum)});
  });
}

Checkpoint load_checkpoint(const std::string& path) {
  try {
    H5Reader r(path);
    if (!r.has_attribute("/", "format_version") || !r.has_dataset("/params"))
      throw CheckpointError(path + ": not a dptrain checkpoint (no /params or format_version)");
    const auto version = r.attribute_ints("/", "format_version").at(0);
    if (version != kCheckpointFormatVersion)
      throw CheckpointError(path + ": checkpoint format version " + std::to_string(version) +
                            "; this dptrain reads version " +
                            std::to_string(kCheckpointFormatVersion));
    Checkpoint c;
    c.spec.name = r.attribute_string("/", "model");
    c.spec.widths = r.attribute_ints("/", "widths");
    c.spec.activation = parse_activation(r.attribute_string("/", "activation"));
    c.spec.loss = parse_loss(r.attribute_string("/", "loss"));
    const auto n = r.shape("/params").rows();
    if (c.spec.widths.size() < 2 || static_cast<std::size_t>(n) != c.spec.num_params())
      throw CheckpointError(path + ": /params has " + std::to_string(n) +
                            " values but the model description needs " +
                            std::to_string(c.spec.widths.size() < 2 ? 0 : c.spec.num_params()));
    c.params.resize(static_cast<std::size_t>(n));
    r.read_rows("/params", 0, n, c.params.data());
    c.optimizer = r.attribute_string("/", "optimizer");
    for (const auto& name : r.list_datasets()) {
      if (name.rfind("/optimizer/", 0) != 0) continue;
      std::vector<float> values(static_cast<std::size_t>(r.shape(name).rows()));
      r.read_rows(name, 0, static_cast<std::int64_t>(values.size()), values.data());
      c.optimizer_state.emplace_back(name.substr(11), std::move(values));
    }
    const auto counters = r.attribute_ints("/", "counters");
    if (counters.size() < 5) throw CheckpointError(path + ": bad 'counters' attribute");
    c.optimizer_steps = counters[0];
    c.epoch = counters[1];
    c.global_step = counters[2];
    c.epoch_step = counters[3];
    c.data_rows = counters[4];
    c.seed = static_cast<std::uint64_t>(r.attribute_ints("/", "seed").at(0));
    c.config = r.attribute_string("/", "config");
    const auto stored = static_cast<std::uint64_t>(r.attribute_ints("/", "checksum").at(0));
    if (stored != checksum(c))
      throw CheckpointError(path + ": checksum mismatch; the checkpoint is corrupt");
    return c;
  } catch (const CheckpointError&) {
    throw;
  } catch (const Error& e) {
    throw CheckpointError(std::string("cannot load checkpoint: ") + e.what());
  }
}

}  // namespace dptrain
