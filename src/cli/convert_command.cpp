#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "dptrain/clock.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"

namespace dptrain::cli {
namespace {

struct ConvertCommandOptions {
  ConvertOptions convert;
  std::string progress = "auto";
};

// The same rule as train's live line: a real terminal, not a batch job or CI.
bool stderr_is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) && term && std::string(term) != "dumb" && !std::getenv("CI") &&
         !std::getenv("SLURM_JOB_ID");
}

// A progress callback that rewrites one stderr line at most five times a second.
std::function<void(std::int64_t, std::int64_t, std::int64_t)> progress_line() {
  auto last = std::make_shared<double>(0.0);
  return [last](std::int64_t done, std::int64_t total, std::int64_t rows) {
    const double now = now_seconds();
    if (now - *last < 0.2 && done < total) return;
    *last = now;
    if (total > 0)
      std::fprintf(stderr, "\r\033[Kconvert: %3.0f%%  %lld rows", 100.0 * done / total,
                   static_cast<long long>(rows));
    else
      std::fprintf(stderr, "\r\033[Kconvert: %lld rows", static_cast<long long>(rows));
    std::fflush(stderr);
  };
}

}  // namespace

void add_convert_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("convert", "Import data from CSV, LIBSVM, .npy, IDX or raw text into HDF5");
  auto c = std::make_shared<ConvertCommandOptions>();
  ConvertOptions& o = c->convert;
  cmd->add_option("--from", o.from, "Input format: csv | libsvm | npy | idx | text (label<TAB>text lines)")->required();
  cmd->add_option("--input,-i", o.input,
                  "Input file (csv/libsvm: text, .gz read too; npy: the features array; idx: the "
                  "images file)")
      ->required();
  cmd->add_option("--labels", o.labels, "npy: the labels array (optional); idx: the labels file");
  cmd->add_option("--out,-o", o.out, "Output HDF5 file (/features, /labels)")->required();
  cmd->add_option("--chunk-rows", o.chunk_rows, "Rows per HDF5 chunk (0: about 256 KiB of features per chunk)")
      ->capture_default_str();
  cmd->add_option("--gzip", o.gzip, "gzip level 1-9 with the shuffle filter (0: none)")
      ->capture_default_str();
  cmd->add_option("--block-rows", o.block_rows,
                  "Rows read and written at a time (0: about 16 MiB of features); bounds memory")
      ->capture_default_str();
  cmd->add_option("--delimiter", o.delimiter, "csv: field separator (one character, tab, space)")
      ->capture_default_str();
  cmd->add_option("--header", o.header,
                  "csv: auto (a first line with a non-number is a header) | yes | no")
      ->capture_default_str();
  cmd->add_option("--label-column", o.label_column,
                  "csv: the label column, by header name or index (negative: from the end)")
      ->capture_default_str();
  cmd->add_option("--label-type", o.label_type,
                  "auto (int64 if every label is an integer, else float32) | int | float | "
                  "category (csv: class names -> ids 0, 1, ... in order of appearance)")
      ->capture_default_str();
  cmd->add_option("--label-map", o.label_map,
                  "csv/libsvm: replace label values, e.g. -1:0,1:1 for +-1 binary labels");
  cmd->add_option("--features", o.features, "libsvm: feature count (0: inferred, one extra pass)")
      ->capture_default_str();
  cmd->add_option("--index-base", o.index_base,
                  "libsvm: 0 | 1 | auto (1 unless an index 0 appears; one extra pass)")
      ->capture_default_str();
  cmd->add_option("--ngrams", o.ngrams, "text: hash unigrams up to N-grams")->capture_default_str();
  cmd->add_option("--hash-bits", o.hash_bits, "text: 2^B feature columns (FNV-1a 64 of each n-gram)")
      ->capture_default_str();
  cmd->add_option("--tf", o.tf, "text: log (log(1 + count)) | raw (count)")->capture_default_str();
  cmd->add_option("--norm", o.norm, "text: l2 (unit-length rows) | none")->capture_default_str();
  cmd->add_option("--layout", o.layout,
                  "libsvm/text: dense | sparse (a CSR group /features, anndata layout) | auto (CSR below 10% density)")
      ->capture_default_str();
  cmd->add_option("--progress", c->progress, "Progress on stderr: auto (on a terminal) | on | off")
      ->capture_default_str();
  cmd->callback([&run, c] {
    run = [c](MpiCommunicator& comm) {
      return run_on_rank0(comm, [c] {
        ConvertOptions o = c->convert;
        if (c->progress != "auto" && c->progress != "on" && c->progress != "off")
          throw ConfigError("--progress '" + c->progress + "': expected auto, on or off");
        const bool show = c->progress == "on" || (c->progress == "auto" && stderr_is_terminal());
        if (show) o.progress = progress_line();
        ConvertSummary s;
        if (o.from == "csv") {
          s = convert_csv(o);
        } else if (o.from == "libsvm" || o.from == "svmlight") {
          s = convert_libsvm(o);
        } else if (o.from == "text") {
          s = convert_text(o);
        } else if (o.from == "npy") {
          s = convert_npy(o);
        } else if (o.from == "idx") {
          s.rows = convert_idx(o);
          s.details = "IDX images scaled to [0, 1]";
          s.label_type = "int64";
        } else {
          throw ConfigError("--from '" + o.from + "': expected csv, libsvm, npy, idx or text");
        }
        if (show) std::fprintf(stderr, "\n");
        std::cout << "dptrain: wrote " << s.rows << " rows";
        if (s.features) std::cout << " x " << s.features << " features";
        std::cout << " (labels " << s.label_type << "; " << s.details << ") to " << o.out
                  << std::endl;
      });
    };
  });
}

}  // namespace dptrain::cli
