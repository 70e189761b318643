#include "dptrain/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

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

namespace dptrain {

CheckpointSchedule CheckpointSchedule::parse(const std::string& text) {
  CheckpointSchedule s;
  if (text.empty() || text == "0") return s;
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  std::string unit = text.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  if (used == 0 || n < 0 || (unit != "" && unit != "epochs" && unit != "epoch" && unit != "steps" && unit != "step"))
    throw ConfigError("--checkpoint-every '" + text + "': expected N, Nepochs or Nsteps (e.g. 2epochs, 500steps)");
  s.every = n;
  s.in_steps = unit.rfind("step", 0) == 0;
  return s;
}

std::string checkpoint_path(const std::string& dir, std::int64_t epoch, std::int64_t global_step) {
  char name[64];
  std::snprintf(name, sizeof name, "ckpt-e%05lld-s%010lld.h5", static_cast<long long>(epoch),
                static_cast<long long>(global_step));
  return (std::filesystem::path(dir) / name).string();
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ckpt-e", 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".h5")
      files.push_back(entry.path().string());
  }
  // The global step is the last number in the name; zero padding makes names sort by it.
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return a.substr(a.rfind("-s")) > b.substr(b.rfind("-s"));
  });
  return files;
}

void prune_checkpoints(const std::string& dir, int keep) {
  if (keep <= 0) return;
  const auto files = list_checkpoints(dir);
  std::error_code ec;
  for (std::size_t i = static_cast<std::size_t>(keep); i < files.size(); ++i)
    std::filesystem::remove(files[i], ec);
}

std::optional<ResumePoint> find_resume_point(const std::string& target, bool allow_empty,
                                             const std::function<void(const std::string&)>& warn) {
  if (!std::filesystem::is_directory(target)) {
    if (!std::filesystem::exists(target)) {
      if (allow_empty) return std::nullopt;
      throw CheckpointError(target + ": no such checkpoint file or folder (--resume)");
    }
    return ResumePoint{target, load_checkpoint(target)};
  }
  const auto files = list_checkpoints(target);
  std::string errors;
  for (const auto& file : files) {
    try {
      return ResumePoint{file, load_checkpoint(file)};
    } catch (const CheckpointError& e) {
      warn(std::string(e.what()) + "; trying an older checkpoint");
      errors += std::string("\n  ") + e.what();
    }
  }
  if (allow_empty && files.empty()) return std::nullopt;
  throw CheckpointError(target + ": no valid checkpoint to resume from" +
                        (errors.empty() ? std::string(" (the folder holds none)") : errors));
}

}  // namespace dptrain
