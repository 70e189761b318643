#include "train/output_paths.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "io/atomic_file.hpp"
#include "dptrain/error.hpp"

namespace dptrain {

namespace {

// `subject` names the option and its value in messages, e.g. "--checkpoint out/model.h5".
void check_folder(const std::filesystem::path& dir, const std::string& subject) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw ConfigError(subject + ": " + dir.string() + " exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError(subject + ": cannot create the folder " + dir.string() + ": " + errno_text(ec.value()));
  const fs::path probe = dir / (".dptrain-write-test." + std::to_string(::getpid()));
  errno = 0;
  std::ofstream out(probe);
  out << "probe";
  out.close();
  const int error = out ? 0 : (errno ? errno : EIO);
  fs::remove(probe, ec);
  if (error != 0)
    throw ConfigError(subject + ": cannot write in the folder " + dir.string() + ": " + errno_text(error));
}

}  // namespace

void prepare_output_folder(const std::string& folder, const std::string& option) {
  check_folder(folder.empty() ? std::filesystem::path(".") : std::filesystem::path(folder),
               option + " " + folder);
}

void prepare_output_file(const std::string& path, const std::string& option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ConfigError(option + " " + path + ": is a folder; expected a file name");
  const fs::path parent = fs::path(path).parent_path();
  check_folder(parent.empty() ? fs::path(".") : parent, option + " " + path);
}

void prepare_run_outputs(const TrainOptions& o) {
  if (!o.checkpoint_dir.empty()) prepare_output_folder(o.checkpoint_dir, "--checkpoint-dir");
  for (const auto& [path, option] : {std::pair{o.checkpoint, "--checkpoint"}, {o.timeline, "--timeline"},
                                     {o.metrics, "--metrics"}, {o.metrics_csv, "--metrics-csv"}})
    if (!path.empty()) prepare_output_file(path, option);
}

std::string keep_model_elsewhere(const std::string& failure, const std::string& path,
                                 const Checkpoint& model, const std::vector<std::string>& folders) {
  namespace fs = std::filesystem;
  const std::string name = fs::path(path).stem().string() + ".rescued.h5";
  std::string tried;
  for (const auto& folder : folders) {
    const std::string rescue = (fs::path(folder.empty() ? "." : folder) / name).string();
    if (fs::weakly_canonical(rescue) == fs::weakly_canonical(path)) continue;
    try {
      save_checkpoint(rescue, model);
      return failure + "; the trained model was written to " + rescue + " instead";
    } catch (const std::exception& e) {
      tried += std::string(tried.empty() ? "" : "; ") + e.what();
    }
  }
  return failure + "; the trained model could not be written elsewhere either (" +
         (tried.empty() ? std::string("no other folder to try") : tried) + ")";
}

}  // namespace dptrain
