#include "dptrain/prediction.hpp"

#include "io/atomic_file.hpp"


#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "dptrain/checkpoint.hpp"
#include "dptrain/clock.hpp"
#include "data/data_agreement.hpp"
#include "util/threads.hpp"
#include "dptrain/error.hpp"
#include "dptrain/memory_budget.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/names.hpp"

namespace dptrain {
namespace {


constexpr const char* kGatherPhase = "prediction gather";

void append_float(std::string& s, float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, ec == std::errc() ? end : buf);
}

// Where rank 0 puts the rows it writes, in order.
class PredictionSink {
 public:
  virtual ~PredictionSink() = default;
  // `outputs` is rows x spec.outputs() model outputs.
  virtual void append(const float* outputs, std::int64_t rows) = 0;
};

class H5Sink final : public PredictionSink {
 public:
  H5Sink(H5Writer& w, const ModelSpec& spec) : w_(w), spec_(spec) {
    if (spec.classifier()) {
      w.create_growing("/predictions", 0, true, {});
      w.create_growing("/probabilities", spec.classes(), false, {});
    } else {
      w.create_growing("/predictions", spec.outputs(), false, {});
    }
  }
  void append(const float* outputs, std::int64_t rows) override {
    if (rows == 0) return;
    if (!spec_.classifier()) {
      w_.append_rows("/predictions", rows, outputs);
      return;
    }
    const std::int64_t k = spec_.outputs(), c = spec_.classes();
    ids_.resize(static_cast<std::size_t>(rows));
    probabilities_.resize(static_cast<std::size_t>(rows * c));
    for (std::int64_t r = 0; r < rows; ++r) {
      ids_[static_cast<std::size_t>(r)] = predicted_class(spec_, outputs + r * k);
      class_probabilities(spec_, outputs + r * k, probabilities_.data() + r * c);
    }
    w_.append_rows("/predictions", rows, ids_.data());
    w_.append_rows("/probabilities", rows, probabilities_.data());
  }

 private:
  H5Writer& w_;
  const ModelSpec& spec_;
  std::vector<std::int64_t> ids_;
  std::vector<float> probabilities_;
};

class CsvSink final : public PredictionSink {
 public:
  CsvSink(std::ostream& out, const ModelSpec& spec, const std::vector<std::string>& class_names)
      : out_(out), spec_(spec) {
    out_ << prediction_csv_header(spec, class_names);
  }
  void append(const float* outputs, std::int64_t rows) override {
    text_.clear();
    for (std::int64_t r = 0; r < rows; ++r)
      append_prediction_csv(spec_, outputs + r * spec_.outputs(), text_);
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
  }

 private:
  std::ostream& out_;
  const ModelSpec& spec_;
  std::string text_;
};


std::string resolve_format(const PredictOptions& o) {
  if (o.out_format == "h5" || o.out_format == "csv") return o.out_format;
  if (o.out_format != "auto")
    throw ConfigError("--out-format '" + o.out_format + "': expected auto, h5 or csv");
  const std::string ext = std::filesystem::path(o.out).extension().string();
  if (ext == ".csv" || ext == ".CSV") return "csv";
  // No extension, or an HDF5 one: HDF5. Any other (.parquet, .npy) would silently be HDF5.
  if (ext.empty() || ext == ".h5" || ext == ".hdf5" || ext == ".H5" || ext == ".he5") return "h5";
  throw ConfigError("--out '" + o.out + "': predict writes HDF5 (.h5, .hdf5) or CSV (.csv), not '" + ext +
                    "'; rename it or set --out-format h5|csv");
}

// A CSV field, quoted when it holds a delimiter, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
  return s;
}

}  // namespace

std::string prediction_csv_header(const ModelSpec& spec, const std::vector<std::string>& class_names) {
  std::string s = spec.classifier() ? "prediction" : "";
  const std::int64_t n = spec.classifier() ? spec.classes() : spec.outputs();
  for (std::int64_t i = 0; i < n; ++i) {
    if (!s.empty()) s += ',';
    s += spec.classifier() ? csv_field(probability_column(class_names, i)) : "value_" + std::to_string(i);
  }
  s += '\n';
  return s;
}

void append_prediction_csv(const ModelSpec& spec, const float* output, std::string& line) {
  if (spec.classifier()) {
    line += std::to_string(predicted_class(spec, output));
    float p[2];
    const float* probabilities = output;
    if (spec.loss == LossKind::BinaryCrossEntropy) {
      class_probabilities(spec, output, p);
      probabilities = p;
    }
    for (std::int64_t i = 0; i < spec.classes(); ++i) {
      line += ',';
      append_float(line, probabilities[i]);
    }
  } else {
    for (std::int64_t i = 0; i < spec.outputs(); ++i) {
      if (i) line += ',';
      append_float(line, output[i]);
    }
  }
  line += '\n';
}

namespace {

// What phase 1 leaves on a rank: the model, the data's shape and this rank's outputs.
struct RankScores {
  Checkpoint model;
  DataDescription desc;
  DataOptions data;  // the command's data options; labels are never required
  std::vector<float> outputs;  // this rank's shard, rows x outputs
  double read_s = 0, score_s = 0;
};

// Phase 1a on one rank: options, model and the data's description.
void describe_rank_input(const PredictOptions& o, int rank, PredictReport& report, RankScores& r) {
  report.format = resolve_format(o);
  if (o.out.empty()) throw ConfigError("--out: no output file given");
  check_thread_count(o.threads);
  if (o.block_rows < 1) throw ConfigError("--block-rows must be at least 1");
  if (rank == 0) {
    const auto folder = std::filesystem::path(o.out).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder))
      throw ConfigError("--out " + o.out + ": folder " + folder.string() + " does not exist");
  }
  r.model = load_checkpoint(o.model);
  r.desc = describe_data(r.data);
  r.desc.label_cols = 0;  // predictions never read labels
  check_model_matches_data(r.model.spec, o.model, r.desc, r.data);
}

// Phase 1b on one rank, once every rank agreed on the data: this rank's outputs.
void score_rank_rows(const PredictOptions& o, int p, int rank, RankScores& r) {
  Scorer scorer(r.model.spec, r.model.params, o.threads);
  const ShardRange mine = shard_range(r.desc.rows, p, rank);
  const std::int64_t k = r.model.spec.outputs();
  r.outputs.resize(static_cast<std::size_t>(mine.size() * k));
  for (std::int64_t lo = mine.begin; lo < mine.end; lo += o.block_rows) {
    const std::int64_t hi = std::min(mine.end, lo + o.block_rows);
    const double t_read = now_seconds();
    const Shard block = load_shard(r.data, r.desc, ShardRange{lo, hi});
    const double t_score = now_seconds();
    scorer.score(block, r.outputs.data() + (lo - mine.begin) * k);
    r.read_s += t_score - t_read;
    r.score_s += now_seconds() - t_score;
  }
}

}  // namespace

PredictReport predict_to_file(const PredictOptions& options, Communicator& comm) {
  PredictOptions o = options;  // block_rows is capped by the memory budget once the data is known
  const double t0 = now_seconds();
  const int p = comm.size(), rank = comm.rank();
  PredictReport report;
  RankScores scores;
  scores.data = o.data;
  scores.data.labels_required = false;
  // Errors are agreed here, before the gather starts, so a bad row on any rank stops every
  // rank together; ranks agree on the data they read before scoring it.
  run_agreed(comm, [&] { describe_rank_input(o, rank, report, scores); });
  agree_on_data(comm, scores.data, scores.desc, "data");
  o.block_rows = capped_block_rows(o.block_rows, scores.desc.cols * 4, o.memory_budget, p);
  run_agreed(comm, [&] { score_rank_rows(o, p, rank, scores); });
  const Checkpoint& model = scores.model;
  const DataDescription& desc = scores.desc;
  const std::vector<float>& outputs = scores.outputs;
  const double t1 = now_seconds();
  report.spec = model.spec;
  report.rows = desc.rows;

  // Phase 2: the ordered gather. Rank 0 writes; if writing fails it keeps receiving (and
  // discarding) the remaining blocks, so the senders finish and the failure is agreed.
  const ModelSpec& spec = model.spec;
  const std::int64_t k = spec.outputs();
  const std::vector<std::string> class_names = model_class_names(model, desc);
  const auto blocks_of = [&](int r) {
    const ShardRange range = shard_range(desc.rows, p, r);
    std::vector<std::pair<std::int64_t, std::int64_t>> blocks;  // (first local row, rows)
    for (std::int64_t lo = 0; lo < range.size(); lo += o.block_rows)
      blocks.emplace_back(lo, std::min(o.block_rows, range.size() - lo));
    return blocks;
  };
  std::optional<std::string> error;
  if (rank == 0) {
    std::vector<std::size_t> received(static_cast<std::size_t>(p), 0);
    std::vector<float> buffer;
    const auto receive = [&](int r, std::int64_t rows) {
      buffer.resize(static_cast<std::size_t>(rows * k));
      comm.recv(buffer, r, kGatherPhase);
      ++received[static_cast<std::size_t>(r)];
    };
    const auto write_all = [&](PredictionSink& sink) {
      for (const auto& [lo, rows] : blocks_of(0)) sink.append(outputs.data() + lo * k, rows);
      for (int r = 1; r < p; ++r)
        for (const auto& [lo, rows] : blocks_of(r)) {
          receive(r, rows);
          sink.append(buffer.data(), rows);
        }
    };
    try {
      if (report.format == "csv") {
        write_stream_atomically(o.out, [&](std::ostream& out) {
          CsvSink sink(out, spec, class_names);
          write_all(sink);
        });
      } else {
        write_file_atomically(o.out, [&](H5Writer& w) {
          H5Sink sink(w, spec);
          write_all(sink);
          w.set_attribute("/", "model", o.model);
          w.set_attribute("/", "model_description", spec.describe());
          w.set_attribute("/", "data", join(o.data.files));
          w.set_attribute("/", "rows", std::vector<std::int64_t>{desc.rows});
          if (!class_names.empty()) w.set_string_array("/probabilities", "classes", class_names);
        });
      }
    } catch (const std::exception& e) {
      error = e.what();
      for (int r = 1; r < p; ++r) {
        const auto blocks = blocks_of(r);
        for (std::size_t b = received[static_cast<std::size_t>(r)]; b < blocks.size(); ++b)
          receive(r, blocks[b].second);
      }
    }
  } else {
    for (const auto& [lo, rows] : blocks_of(rank))
      comm.send(std::span<const float>(outputs.data() + lo * k, static_cast<std::size_t>(rows * k)),
                0, kGatherPhase);
  }
  throw_if_any_failed(comm, error);

  std::vector<double> times = {scores.read_s, scores.score_s, now_seconds() - t1};
  comm.allreduce_max(times, "prediction timing");
  report.read_seconds = times[0];
  report.score_seconds = times[1];
  report.write_seconds = times[2];
  report.seconds = now_seconds() - t0;
  return report;
}

}  // namespace dptrain
