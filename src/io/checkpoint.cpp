#include "dptrain/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <span>

#include "io/atomic_file.hpp"
#include "io/checkpoint_extras.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/model_export.hpp"
#include "util/fnv1a.hpp"

namespace dptrain {
namespace {

// An integer attribute with exactly `count` values.
std::vector<std::int64_t> checked_ints(const H5Reader& r, const std::string& key, std::size_t count) {
  if (!r.has_attribute("/", key)) throw CheckpointError(r.path() + ": no '" + key + "' attribute");
  auto values = r.attribute_ints("/", key);
  if (values.size() != count)
    throw CheckpointError(r.path() + ": attribute '" + key + "' has " + std::to_string(values.size()) +
                          " value(s); expected " + std::to_string(count));
  return values;
}

// Widths from a file are checked before they size anything: at least inputs and outputs,
// each positive, and a parameter count that fits in memory arithmetic.
void check_widths(const std::string& path, const std::vector<std::int64_t>& widths) {
  constexpr std::int64_t kMaxWidth = std::int64_t{1} << 31;
  if (widths.size() < 2)
    throw CheckpointError(path + ": attribute 'widths' has " + std::to_string(widths.size()) +
                          " value(s); expected at least 2 (inputs, outputs)");
  double total = 0;
  for (std::size_t l = 0; l < widths.size(); ++l) {
    if (widths[l] < 1 || widths[l] > kMaxWidth)
      throw CheckpointError(path + ": attribute 'widths' holds " + std::to_string(widths[l]) +
                            "; expected layer widths from 1 to 2^31");
    if (l > 0) total += static_cast<double>(widths[l - 1] + 1) * static_cast<double>(widths[l]);
  }
  if (total > 1e12) throw CheckpointError(path + ": attribute 'widths' describes more than 10^12 parameters");
}

}  // namespace

// A dataset of a checkpoint as the loader expects it: 1-D, floating point, `expected` values
// (when known). Checked before any buffer is sized from it.
std::int64_t checked_vector_length(const H5Reader& r, const std::string& name, std::int64_t expected) {
  const DatasetShape s = r.shape(name);
  if (s.dims.size() != 1 || s.kind != DatasetShape::Kind::Float ||
      (expected >= 0 && s.dims[0] != expected)) {
    std::string dims;
    for (std::size_t i = 0; i < s.dims.size(); ++i) dims += (i ? ", " : "") + std::to_string(s.dims[i]);
    throw CheckpointError(r.path() + ": dataset '" + name + "' is " + s.type_name + " [" + dims +
                          "]; expected float [" +
                          (expected >= 0 ? std::to_string(expected) : std::string("N")) +
                          "] (a damaged or foreign checkpoint)");
  }
  return s.dims[0];
}

std::uint64_t checksum(const Checkpoint& c, std::int64_t format_version) {
  std::uint64_t h = kFnv1aOffset;
  fnv1a(h, c.params.data(), c.params.size() * sizeof(float));
  for (const auto& [name, values] : c.optimizer_state) {
    fnv1a(h, name.data(), name.size());
    fnv1a(h, values.data(), values.size() * sizeof(float));
  }
  const std::int64_t counters[4] = {c.optimizer_steps, c.epoch, c.global_step, c.epoch_step};
  fnv1a(h, counters, sizeof counters);
  hash_checkpoint_extras(h, c);  // nothing when absent, so older files keep their checksum
  if (format_version < 2) return h;  // version 1 covered only the above
  // Everything else that defines the run: model, optimizer, seed, data rows and options.
  const std::int64_t more[4] = {static_cast<std::int64_t>(c.seed), c.data_rows, c.global_batch,
                                format_version};
  fnv1a(h, more, sizeof more);
  fnv1a(h, c.spec.widths.data(), c.spec.widths.size() * sizeof(std::int64_t));
  for (const std::string& text : {c.spec.name, to_string(c.spec.activation), to_string(c.spec.loss),
                                  c.optimizer, c.config})
    fnv1a_text(h, text);
  if (c.text) fnv1a_text(h, "text " + c.text->describe());  // only when present: older files keep their sums
  return h;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  write_file_atomically(path, [&](H5Writer& w) {
    w.write("/params", {static_cast<std::int64_t>(c.params.size())}, c.params.data());
    for (const auto& [name, values] : c.optimizer_state)
      w.write("/optimizer/" + name, {static_cast<std::int64_t>(values.size())}, values.data());
    // The same weights per layer, as PyTorch names and shapes them (row-major [out, in]), for
    // readers other than dptrain; derived from /params, which stays the source of truth.
    for (const ExportTensor& t : state_dict(c.spec, c.params.data()))
      w.write("/state_dict/" + t.name, t.shape, t.values.data());
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
    w.set_attribute("/", "global_batch", std::vector<std::int64_t>{c.global_batch});
    w.set_attribute("/", "config", c.config);
    if (!c.data_order.empty()) w.set_attribute("/", "data_order", c.data_order);
    save_checkpoint_extras(w, c);
    if (c.text) write_text_settings(w, "/", *c.text);
    const std::uint64_t sum = checksum(c, kCheckpointFormatVersion);
    w.set_attribute_u64("/", "checksum", sum);  // files before December 2026: the same bits as int64
  });
}

Checkpoint load_checkpoint(const std::string& path) {
  try {
    H5Reader r(path);
    if (!r.has_attribute("/", "format_version") || !r.has_dataset("/params"))
      throw CheckpointError(path + ": not a dptrain checkpoint (no /params or format_version)");
    const auto version = checked_ints(r, "format_version", 1)[0];
    if (version < 1 || version > kCheckpointFormatVersion)
      throw CheckpointError(path + ": checkpoint format version " + std::to_string(version) +
                            "; this dptrain reads versions 1 to " +
                            std::to_string(kCheckpointFormatVersion));
    // Every attribute and dataset is checked (count, rank, type, length) before it sizes a
    // buffer: a damaged file is refused, never read past its buffer.
    Checkpoint c;
    c.spec.name = r.attribute_string("/", "model");
    c.spec.widths = r.attribute_ints("/", "widths");
    check_widths(path, c.spec.widths);
    c.spec.activation = parse_activation(r.attribute_string("/", "activation"));
    c.spec.loss = parse_loss(r.attribute_string("/", "loss"));
    const auto n = static_cast<std::int64_t>(c.spec.num_params());
    checked_vector_length(r, "/params", n);
    c.params.resize(static_cast<std::size_t>(n));
    r.read_rows("/params", 0, n, std::span(c.params));
    c.optimizer = r.attribute_string("/", "optimizer");
    for (const auto& name : r.list_datasets()) {
      if (name.rfind("/optimizer/", 0) != 0) continue;
      // Every optimizer state holds one value per parameter.
      std::vector<float> values(static_cast<std::size_t>(checked_vector_length(r, name, n)));
      r.read_rows(name, 0, n, std::span(values));
      c.optimizer_state.emplace_back(name.substr(11), std::move(values));
    }
    const auto counters = checked_ints(r, "counters", 5);
    c.optimizer_steps = counters[0];
    c.epoch = counters[1];
    c.global_step = counters[2];
    c.epoch_step = counters[3];
    c.data_rows = counters[4];
    c.seed = static_cast<std::uint64_t>(checked_ints(r, "seed", 1)[0]);
    if (version >= 2) c.global_batch = checked_ints(r, "global_batch", 1)[0];
    c.config = r.attribute_string("/", "config");
    if (r.has_attribute("/", "data_order")) c.data_order = r.attribute_string("/", "data_order");
    load_checkpoint_extras(r, c);
    if (has_text_settings(r, "/")) c.text = read_text_settings(r, "/");
    if (!r.has_attribute("/", "checksum")) throw CheckpointError(path + ": no 'checksum' attribute");
    const std::uint64_t stored = r.attribute_u64("/", "checksum");
    if (stored != checksum(c, version))
      throw CheckpointError(path + ": checksum mismatch; the checkpoint is corrupt or was edited");
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

std::optional<std::int64_t> checkpoint_step(const std::string& file_name) {
  // Exactly the names checkpoint_path writes: ckpt-e<digits>-s<digits>.h5. Anything else
  // in the folder (a user's "ckpt-e5.h5" or "ckpt-e00003-s12.h5.bak") is not ours.
  static const std::regex ours(R"(ckpt-e([0-9]{1,18})-s([0-9]{1,18})\.h5)");
  std::smatch m;
  if (!std::regex_match(file_name, m, ours)) return std::nullopt;
  return std::stoll(m[2].str());
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (const auto step = checkpoint_step(entry.path().filename().string()))
      found.emplace_back(*step, entry.path().string());
  // Newest (highest global step) first; names break ties so the order is total.
  std::sort(found.begin(), found.end(), std::greater<>());
  std::vector<std::string> files;
  for (auto& [step, file] : found) files.push_back(std::move(file));
  return files;
}

void prune_checkpoints(const std::string& dir, int keep) {
  remove_stale_temp_files(dir, "ckpt-e");  // left by a writer killed mid-save
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
