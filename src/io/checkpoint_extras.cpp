#include "io/checkpoint_extras.hpp"

#include <span>
#include <utility>

#include "dptrain/error.hpp"
#include "dptrain/names.hpp"
#include "util/fnv1a.hpp"

namespace dptrain {
namespace {

constexpr const char* kBestParams = "/early_stopping/best_params";

}  // namespace

void save_checkpoint_extras(H5Writer& w, const Checkpoint& c) {
  if (!c.column_names.empty()) w.set_string_array("/", "column_names", c.column_names);
  if (!c.class_names.empty()) w.set_string_array("/", "class_names", c.class_names);
  if (!c.early_stopping) return;
  const EarlyStoppingState& e = *c.early_stopping;
  w.set_attribute("/", "early_stopping_metric", e.metric);
  w.set_attribute("/", "early_stopping", std::vector<std::int64_t>{e.best_epoch, e.epochs_since_best});
  w.set_attribute("/", "early_stopping_best", e.best);
  if (!e.best_params.empty())
    w.write(kBestParams, {static_cast<std::int64_t>(e.best_params.size())}, e.best_params.data());
}

void load_checkpoint_extras(const H5Reader& r, Checkpoint& c) {
  c.column_names = read_names(r, "/", "column_names");
  c.class_names = read_names(r, "/", "class_names");
  if (!r.has_attribute("/", "early_stopping")) return;
  EarlyStoppingState e;
  const std::vector<std::int64_t> counters = r.attribute_ints("/", "early_stopping");
  if (counters.size() != 2 || !r.has_attribute("/", "early_stopping_metric") ||
      !r.has_attribute("/", "early_stopping_best"))
    throw CheckpointError(r.path() + ": attribute 'early_stopping' has " + std::to_string(counters.size()) +
                          " value(s) (expected 2: best epoch, epochs since) or early_stopping_metric/_best "
                          "is missing (a damaged checkpoint)");
  e.best_epoch = counters[0];
  e.epochs_since_best = counters[1];
  e.metric = r.attribute_string("/", "early_stopping_metric");
  e.best = r.attribute_double("/", "early_stopping_best");
  if (r.has_dataset(kBestParams)) {
    const std::int64_t n = checked_vector_length(r, kBestParams, static_cast<std::int64_t>(c.params.size()));
    e.best_params.resize(static_cast<std::size_t>(n));
    r.read_rows(kBestParams, 0, n, std::span(e.best_params));
  }
  c.early_stopping = std::move(e);
}

void hash_checkpoint_extras(std::uint64_t& h, const Checkpoint& c) {
  for (const auto& [key, names] : {std::pair{"column_names", &c.column_names}, std::pair{"class_names", &c.class_names}}) {
    if (names->empty()) continue;
    fnv1a_text(h, key);  // which list the names belong to counts too
    for (const auto& name : *names) fnv1a_text(h, name);
  }
  if (!c.early_stopping) return;
  const EarlyStoppingState& e = *c.early_stopping;
  fnv1a_text(h, e.metric);
  const std::int64_t counters[2] = {e.best_epoch, e.epochs_since_best};
  fnv1a(h, counters, sizeof counters);
  fnv1a(h, &e.best, sizeof e.best);
  fnv1a(h, e.best_params.data(), e.best_params.size() * sizeof(float));
}

}  // namespace dptrain
